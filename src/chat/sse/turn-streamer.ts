import { Injectable } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AgentEvent } from '../../agent/agent-turn';
import { toProblem } from '../../common/problem/problem';
import { logProblem } from '../../common/problem/problem-details.filter';
import { AppConfig } from '../../config/app-config';
import { Metrics } from '../../metrics/metrics';
import type { ReplayedTurn, StartedTurn } from '../chat.service';
import { SseStream } from './sse-stream';

export const EVENT_STREAM = 'text/event-stream';

export function wantsEventStream(request: FastifyRequest): boolean {
  return (request.headers.accept ?? '').includes(EVENT_STREAM);
}

/**
 * Streams a turn (SPEC §5.1): `turn.started`, the agent's events as they happen, then `turn.completed`
 * with the same body as the JSON answer, or `error` with a problem object. Everything that can refuse
 * the turn already happened, as a plain HTTP error, before the first byte.
 */
@Injectable()
export class TurnStreamer {
  constructor(
    private readonly config: AppConfig,
    private readonly metrics: Metrics,
  ) {}

  /** Takes the response over from Fastify: the caller must not send anything after this. */
  async stream(request: FastifyRequest, reply: FastifyReply, turn: StartedTurn | ReplayedTurn): Promise<void> {
    reply.hijack();
    const stream = new SseStream(reply.raw, reply.getHeaders(), {
      keepaliveMs: this.config.chat.sseKeepaliveMs,
      maxBufferBytes: this.config.chat.sseMaxBufferBytes,
      onOverflow: (bufferedBytes) =>
        request.log.warn({ bufferedBytes }, 'SSE client does not read its stream; disconnected, the turn goes on'),
    });
    try {
      if (turn.kind === 'replayed') {
        stream.send('turn.completed', turn.response);
        return;
      }
      stream.send('turn.started', { conversation_id: turn.conversationId, user_message_id: turn.userMessageId });
      const response = await turn.run((event) => stream.send(event.type, eventData(event)));
      stream.send('turn.completed', response);
    } catch (error) {
      const { problem } = toProblem(error, String(request.id), request.url);
      logProblem(request, error, problem);
      // Fastify's onSend hook, which counts the other error responses, never sees a hijacked reply.
      this.metrics.errors.inc({ code: problem.code });
      stream.send('error', problem);
    } finally {
      stream.end();
    }
  }
}

function eventData(event: AgentEvent): Omit<AgentEvent, 'type'> {
  const { type: _type, ...data } = event;
  return data;
}
