import { HeaderValueError, isTemplated, renderHeaders } from './header-template';

describe(renderHeaders.name, () => {
  const identity = (userId: string) => ({ userId, userToken: () => `token-of-${userId}` });

  it('fills in {{user_id}} and {{user_token}}, spaces inside the braces allowed', () => {
    expect(
      renderHeaders(
        { 'X-User': '{{user_id}}', Authorization: 'Bearer {{ user_token }}', 'X-Static': 'v1' },
        identity('alice'),
      ),
    ).toEqual({ 'X-User': 'alice', Authorization: 'Bearer token-of-alice', 'X-Static': 'v1' });
  });

  it('signs a token only for headers that use one', () => {
    const userToken = jest.fn(() => 'token');

    renderHeaders({ 'X-User': '{{user_id}}' }, { userId: 'alice', userToken });

    expect(userToken).not.toHaveBeenCalled();
  });

  it.each(['alice\r\nX-Admin: true', 'alice\nX-Admin: true', 'alice\r', 'nul\u0000', 'bell\u0007', '用户'])(
    'refuses a user id that would split or break the header: %j',
    (userId) => {
      const render = () => renderHeaders({ 'X-User': 'id={{user_id}}' }, identity(userId));

      expect(render).toThrow(HeaderValueError);
      expect(render).toThrow(
        'header X-User: {{user_id}} holds a line break or another character a header cannot carry',
      );
    },
  );

  it('keeps a value with ordinary punctuation, spaces and Latin-1 letters as it is', () => {
    expect(renderHeaders({ 'X-User': '{{user_id}}' }, identity('José O’Neil'.replace('’', "'")))).toEqual({
      'X-User': "José O'Neil",
    });
  });

  it('does not interpret $-patterns of a user id as replacement patterns', () => {
    expect(renderHeaders({ 'X-User': '{{user_id}}' }, identity("$&$'$`"))).toEqual({ 'X-User': "$&$'$`" });
  });
});

describe(isTemplated.name, () => {
  it('tells headers that depend on the caller from fixed ones', () => {
    expect(isTemplated({ Authorization: 'Bearer {{user_token}}' })).toBe(true);
    expect(isTemplated({ Authorization: 'Bearer sk-fixed' })).toBe(false);
    expect(isTemplated(undefined)).toBe(false);
  });
});
