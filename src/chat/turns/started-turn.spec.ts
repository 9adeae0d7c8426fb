import type { ChatTurnDto } from '../dto/chat-turn.dto';
import { StartedTurn, type HeldTurn, type TurnRunner } from './started-turn';

const held = {
  lease: { conversationId: 'c1' },
  userMessage: { id: 'm1', seq: 1 },
  ref: { userId: 'u1', conversationId: 'c1', turnId: 'm1' },
} as unknown as HeldTurn;

function fakeRunner(): jest.Mocked<TurnRunner> {
  return {
    run: jest.fn().mockResolvedValue({ message_id: 'a1' } as ChatTurnDto),
    abandon: jest.fn().mockResolvedValue(undefined),
  };
}

describe(StartedTurn.name, () => {
  it('names its turn: the owner, the conversation of its lease and its stored user message', () => {
    const turn = new StartedTurn(fakeRunner(), held);

    expect([turn.kind, turn.ref]).toEqual(['started', { userId: 'u1', conversationId: 'c1', turnId: 'm1' }]);
  });

  it('releases its lease when abandoned before it runs', async () => {
    const runner = fakeRunner();

    await new StartedTurn(runner, held).abandon();

    expect(runner.abandon).toHaveBeenCalledWith(held);
  });

  it('ignores abandon once it runs, so callers may abandon in a finally', async () => {
    const runner = fakeRunner();
    const turn = new StartedTurn(runner, held);

    await turn.run();
    await turn.abandon();

    expect(runner.abandon).not.toHaveBeenCalled();
  });

  it('runs at most once, and never after it was abandoned', async () => {
    const ran = new StartedTurn(fakeRunner(), held);
    await ran.run();
    const abandoned = new StartedTurn(fakeRunner(), held);
    await abandoned.abandon();

    expect(() => ran.run()).toThrow(/runs once/);
    expect(() => abandoned.run()).toThrow(/runs once/);
  });
});
