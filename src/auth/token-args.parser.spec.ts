import { parseTokenArgs, TokenArgsError } from './token-args.parser';

describe(parseTokenArgs.name, () => {
  it('takes the user id and defaults the ttl to one hour', () => {
    expect(parseTokenArgs(['alice'])).toEqual({ help: false, userId: 'alice', ttlSeconds: 3600 });
  });

  it.each([
    [['alice', '--ttl', '90'], 90],
    [['--ttl', '30m', 'alice'], 1800],
    [['alice', '--ttl=2h'], 7200],
    [['alice', '--ttl', '7d'], 604800],
  ])('reads the ttl from %j', (argv, ttlSeconds) => {
    expect(parseTokenArgs(argv)).toEqual({ help: false, userId: 'alice', ttlSeconds });
  });

  it('asks for help without needing a user id', () => {
    expect(parseTokenArgs(['--help'])).toEqual({ help: true });
  });

  it.each([
    [[], /Missing <user_id>/],
    [['   '], /<user_id> must be 1\.\.255 characters/],
    [['u'.repeat(256)], /<user_id> must be 1\.\.255 characters/],
    [[' alice'], /<user_id> must be 1\.\.255 characters in Unicode NFC, without surrounding whitespace/],
    [['jose\u0301'], /<user_id> must be 1\.\.255 characters in Unicode NFC/],
    [['chat-service'], /<user_id> chat-service is reserved for the service itself/],
    [['alice', 'bob'], /Expected one <user_id>, got 2/],
    [['alice', '--ttl'], /Bad --ttl \(missing\)/],
    [['alice', '--ttl', 'soon'], /Bad --ttl soon/],
    [['alice', '--ttl', '1w'], /Bad --ttl 1w/],
    [['alice', '--ttl', '-5m'], /Bad --ttl -5m/],
    [['alice', '--ttl', '0'], /Bad --ttl 0: between 1s and 7d/],
    [['alice', '--ttl', '8d'], /Bad --ttl 8d: between 1s and 7d/],
    [['alice', '--verbose'], /Unknown option --verbose/],
  ])('refuses %j with a message for the user', (argv, message) => {
    expect(() => parseTokenArgs(argv)).toThrow(TokenArgsError);
    expect(() => parseTokenArgs(argv)).toThrow(message);
  });
});
