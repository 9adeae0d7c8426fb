/**
 * The floor's streaming model call: `fetch` with `stream: true`, the Anthropic event stream read frame by
 * frame, each text delta handed on as it arrives, the whole message assembled for the commit that follows.
 */

export interface ModelAnswer {
  model: string;
  content: { type: string; text?: string }[];
  stop_reason: string;
  usage: Record<string, number>;
}

interface StreamFrame {
  type?: string;
  message?: { model: string; usage: Record<string, number> };
  delta?: { type?: string; text?: string; stop_reason?: string };
  usage?: Record<string, number>;
  error?: { type?: string; message?: string };
}

export async function streamModel(
  url: string,
  init: { headers: Record<string, string>; body: object; signal: AbortSignal },
  onText: (text: string) => void,
): Promise<ModelAnswer> {
  const response = await fetch(url, {
    method: 'POST',
    headers: init.headers,
    body: JSON.stringify({ ...init.body, stream: true }),
    signal: init.signal,
  });
  if (!response.ok || !response.body) throw new Error(`model answered ${response.status}`);
  const answer: ModelAnswer = { model: '', content: [], stop_reason: '', usage: {} };
  let text = '';
  let pending = '';
  const decoder = new TextDecoder();
  for await (const chunk of response.body) {
    pending += decoder.decode(chunk as Uint8Array, { stream: true });
    let end: number;
    while ((end = pending.indexOf('\n\n')) >= 0) {
      const frame = pending.slice(0, end);
      pending = pending.slice(end + 2);
      const data = frame.split('\n').find((line) => line.startsWith('data: '));
      if (!data) continue;
      const event = JSON.parse(data.slice('data: '.length)) as StreamFrame;
      if (event.type === 'message_start' && event.message) {
        answer.model = event.message.model;
        answer.usage = event.message.usage;
      } else if (event.type === 'content_block_delta' && event.delta?.type === 'text_delta' && event.delta.text) {
        text += event.delta.text;
        onText(event.delta.text);
      } else if (event.type === 'message_delta') {
        answer.stop_reason = event.delta?.stop_reason ?? '';
        answer.usage = { ...answer.usage, ...event.usage };
      } else if (event.type === 'error') {
        throw new Error(`model stream failed: ${event.error?.type}`);
      }
    }
  }
  answer.content = [{ type: 'text', text }];
  return answer;
}
