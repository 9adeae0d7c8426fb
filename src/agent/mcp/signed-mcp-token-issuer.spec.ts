import type { TokenSigner } from '../../auth/token-signer';
import { MCP_TOKEN_TTL_SECONDS, SignedMcpTokenIssuer } from './signed-mcp-token-issuer';

function issuerWithCountingSigner() {
  let signed = 0;
  const sign = jest.fn(
    (userId: string, server: string, ttlSeconds: number) => `${userId}|${server}|${ttlSeconds}|${++signed}`,
  );
  return { issuer: new SignedMcpTokenIssuer({ signForMcpServer: sign } as unknown as TokenSigner), sign };
}

describe(SignedMcpTokenIssuer.name, () => {
  beforeEach(() => jest.useFakeTimers({ now: 1_000_000 }));
  afterEach(() => jest.useRealTimers());

  it("signs a 5-minute MCP server token whose sub is the user and whose aud is the server's name", () => {
    const { issuer, sign } = issuerWithCountingSigner();

    expect(issuer.tokenFor('github', 'alice')).toBe(`alice|github|${MCP_TOKEN_TTL_SECONDS}|1`);
    expect(sign).toHaveBeenCalledWith('alice', 'github', 300);
  });

  it('reuses a token until a minute before it expires, then signs a new one', () => {
    const { issuer } = issuerWithCountingSigner();
    const first = issuer.tokenFor('github', 'alice');

    jest.advanceTimersByTime(239_000);
    expect(issuer.tokenFor('github', 'alice')).toBe(first);

    jest.advanceTimersByTime(1_000);
    expect(issuer.tokenFor('github', 'alice')).not.toBe(first);
  });

  it('keeps one token per server and user', () => {
    const { issuer, sign } = issuerWithCountingSigner();

    issuer.tokenFor('github', 'alice');
    issuer.tokenFor('github', 'bob');
    issuer.tokenFor('jira', 'alice');
    issuer.tokenFor('github', 'alice');

    expect(sign).toHaveBeenCalledTimes(3);
  });
});
