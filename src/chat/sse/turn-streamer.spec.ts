import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AppConfig } from '../../config/app-config';
import type { Metrics } from '../../metrics/metrics';
import type { TurnEvents } from '../turn-events/turn-events.service';
import { StartedTurn, type HeldTurn, type TurnRunner } from '../turns/started-turn';
import { TurnStreamer } from './turn-streamer';

const config = { chat: { sseKeepaliveMs: 15_000, sseRetryMs: 3000, sseMaxBufferBytes: 1 << 20 } } as AppConfig;

describe(TurnStreamer.name, () => {
  it('abandons a started turn when its stream cannot open, so the conversation is not left busy', async () => {
    const runner: jest.Mocked<TurnRunner> = { run: jest.fn(), abandon: jest.fn().mockResolvedValue(undefined) };
    const turn = new StartedTurn(runner, { lease: { conversationId: 'c1' }, userMessage: { id: 'm1' } } as HeldTurn);
    const reply = {
      hijack: jest.fn(),
      getHeaders: () => ({}),
      raw: {
        writeHead: () => {
          throw new Error('socket closed');
        },
      },
    } as unknown as FastifyReply;

    await expect(
      new TurnStreamer({} as TurnEvents, config, {} as Metrics).stream({} as FastifyRequest, reply, turn),
    ).rejects.toThrow('socket closed');

    expect(runner.run).not.toHaveBeenCalled();
    expect(runner.abandon).toHaveBeenCalledTimes(1);
  });
});
