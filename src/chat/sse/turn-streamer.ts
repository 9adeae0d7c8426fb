import { Injectable } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AgentEvent } from '../../agent/agent-turn';
import { toProblem } from '../../common/problem/problem';
import { logProblem } from '../../common/problem/problem-details.filter';
import { AppConfig } from '../../config/app-config';
import { Metrics } from '../../metrics/metrics';
import type { AgentEventData, ChatStreamData, ChatStreamEventName } from '../dto/chat-stream-event.dto';
import type { ReplayedTurn, StartedTurn } from '../turns/started-turn';
import { SseStream } from './sse-stream';

export const EVENT_STREAM = 'text/event-stream';

export function wantsEventStream(request: FastifyRequest): boolean {
  return (request.headers.accept ?? '').includes(EVENT_STREAM);
}

/** Streams a turn (SPEC §5.1); everything that can refuse it already happened, as a plain HTTP error. */
@Injectable()
export class TurnStreamer {
  constructor(
    private readonly config: AppConfig,
    private readonly metrics: Metrics,
  ) {}

  /** Takes the response over from Fastify: the caller must not send anything after this. */
  async stream(request: FastifyRequest, reply: FastifyReply, turn: StartedTurn | ReplayedTurn): Promise<void> {
    try {
      await this.streamTurn(request, reply, turn);
    } finally {
      // A turn that never ran (the stream could not open) must not keep its conversation busy.
      if (turn.kind === 'started') await turn.abandon();
    }
  }

  private async streamTurn(request: FastifyRequest, reply: FastifyReply, turn: StartedTurn | ReplayedTurn) {
    reply.hijack();
    const stream = new SseStream(reply.raw, reply.getHeaders(), {
      keepaliveMs: this.config.chat.sseKeepaliveMs,
      maxBufferBytes: this.config.chat.sseMaxBufferBytes,
      onOverflow: (bufferedBytes) =>
        request.log.warn({ bufferedBytes }, 'SSE client does not read its stream; disconnected, the turn goes on'),
    });
    const send = <E extends ChatStreamEventName>(event: E, data: ChatStreamData[E]) => stream.send(event, data);
    try {
      if (turn.kind === 'replayed') {
        send('turn.completed', turn.response);
        return;
      }
      send('turn.started', { conversation_id: turn.conversationId, user_message_id: turn.userMessageId });
      const response = await turn.run((event) => stream.send(event.type, eventData(event)));
      send('turn.completed', response);
    } catch (error) {
      const { problem } = toProblem(error, String(request.id), request.url);
      logProblem(request, error, problem);
      // Fastify's onSend hook, which counts the other error responses, never sees a hijacked reply.
      this.metrics.errors.inc({ code: problem.code });
      send('error', problem);
    } finally {
      stream.end();
    }
  }
}

function eventData(event: AgentEvent): AgentEventData {
  const { type: _type, ...data } = event;
  return data;
}
