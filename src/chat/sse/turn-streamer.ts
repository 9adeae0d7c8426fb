import { Injectable } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { toProblem } from '../../common/problem/problem';
import { logProblem } from '../../common/problem/problem-details.filter';
import { AppConfig } from '../../config/app-config';
import { Metrics } from '../../metrics/metrics';
import type { TurnEventRecord, TurnRef } from '../turn-events/turn-event';
import { alreadyEnded, TurnEvents } from '../turn-events/turn-events.service';
import type { TurnFollower } from '../turn-events/turn-follower';
import type { AttachedTurn, ReplayedTurn, StartedTurn } from '../turns/started-turn';
import { SseStream } from './sse-stream';

export const EVENT_STREAM = 'text/event-stream';

export function wantsEventStream(request: FastifyRequest): boolean {
  return (request.headers.accept ?? '').includes(EVENT_STREAM);
}

/**
 * Streams a turn's events (SPEC §5.1, §5.2): the live turn a request started, or a turn being resumed or
 * replayed. Everything that can refuse it already happened, as a plain HTTP error.
 */
@Injectable()
export class TurnStreamer {
  constructor(
    private readonly turnEvents: TurnEvents,
    private readonly config: AppConfig,
    private readonly metrics: Metrics,
  ) {}

  /** Takes the response over from Fastify: the caller must not send anything after this. */
  async stream(
    request: FastifyRequest,
    reply: FastifyReply,
    turn: StartedTurn | ReplayedTurn | AttachedTurn,
  ): Promise<void> {
    try {
      if (turn.kind === 'started') return await this.streamLive(request, reply, turn);
      const after = turn.kind === 'attached' ? turn.after : turn.resumeAfter;
      return await this.streamStored(request, reply, turn.ref, after, turn.kind === 'replayed' ? turn : undefined);
    } finally {
      // A turn that never ran (the stream could not open) must not keep its conversation busy.
      if (turn.kind === 'started') await turn.abandon();
    }
  }

  /**
   * A stored turn from `after` (204 when the client has its end already). Without `after`, an Idempotency-Key
   * repeat streams only its terminal event, under its original id.
   */
  async streamStored(
    request: FastifyRequest,
    reply: FastifyReply,
    ref: TurnRef,
    after: number | undefined,
    replay?: ReplayedTurn,
  ): Promise<void> {
    const turn = await this.turnEvents.find(ref);
    if (after !== undefined && alreadyEnded(turn, after)) {
      void reply.code(204).send();
      return;
    }
    const stream = this.open(request, reply);
    if (replay && after === undefined && turn.last_event_id === null) {
      // Answered before turns had an event log: its answer is the whole stream.
      stream.send(1, 'turn.completed', replay.response);
      return stream.end();
    }
    const from = after ?? (replay && turn.last_event_id !== null ? turn.last_event_id - 1 : 0);
    await this.pipe(reply, stream, (send) => this.turnEvents.follow(ref, from, send));
  }

  /** Ends once the turn is stored and counted, not only streamed: the stream's end means the turn's end. */
  private async streamLive(request: FastifyRequest, reply: FastifyReply, turn: StartedTurn): Promise<void> {
    const stream = this.open(request, reply);
    let ran: Promise<unknown> = Promise.resolve();
    await this.pipe(
      reply,
      stream,
      (send) => {
        const follower = this.turnEvents.followLive(turn.ref, turn.eventsAfter, send);
        ran = turn.run().catch((error: unknown) => {
          const problem = this.report(request, error);
          // The turn's own `turn.failed` normally ended the stream already; this covers a failure before it.
          follower.finishWith({ seq: follower.last + 1, type: 'turn.failed', data: problem });
        });
        return follower;
      },
      () => ran,
    );
  }

  private open(request: FastifyRequest, reply: FastifyReply): SseStream {
    reply.hijack();
    return new SseStream(reply.raw, reply.getHeaders(), {
      keepaliveMs: this.config.chat.sseKeepaliveMs,
      retryMs: this.config.chat.sseRetryMs,
      maxBufferBytes: this.config.chat.sseMaxBufferBytes,
      onOverflow: (bufferedBytes) =>
        request.log.warn({ bufferedBytes }, 'SSE client does not read its stream; disconnected, the turn goes on'),
    });
  }

  /** Until the terminal event, or until the client leaves (the turn goes on: only the cancel route stops it). */
  private async pipe(
    reply: FastifyReply,
    stream: SseStream,
    start: (send: (event: TurnEventRecord) => void) => TurnFollower,
    settled: () => Promise<unknown> = () => Promise.resolve(),
  ): Promise<void> {
    const follower = start((event) => stream.send(event.seq, event.type, event.data));
    const stop = () => follower.stop();
    reply.raw.once('close', stop);
    try {
      await follower.ended;
      await settled();
    } finally {
      reply.raw.off('close', stop);
      stream.end();
    }
  }

  /** Fastify's onSend hook, which counts the other error responses, never sees a hijacked reply. */
  private report(request: FastifyRequest, error: unknown): unknown {
    const { problem } = toProblem(error, String(request.id), request.url);
    logProblem(request, error, problem);
    this.metrics.errors.inc({ code: problem.code });
    return problem;
  }
}
