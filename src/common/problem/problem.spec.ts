import { AppError } from '../errors/app-error';
import { toProblem } from './problem';

describe(toProblem.name, () => {
  it('keeps the standard members when extensions name them too', () => {
    const error = new AppError('conversation_busy', 'Another turn is running.', {
      extensions: {
        status: 200,
        code: 'internal_error',
        type: 'about:blank',
        title: 'forged',
        detail: 'forged',
        instance: '/elsewhere',
        request_id: 'forged',
        conversation_id: 'c-1',
      },
    });

    const { problem } = toProblem(error, 'req-1', '/api/u/chat');

    expect(problem).toEqual({
      type: '/problems/conversation_busy',
      title: 'Conversation busy',
      status: 409,
      detail: 'Another turn is running.',
      instance: '/api/u/chat',
      code: 'conversation_busy',
      request_id: 'req-1',
      conversation_id: 'c-1',
    });
  });
});
