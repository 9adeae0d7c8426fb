import { secretRedactor } from './secret-redactor';

describe(secretRedactor.name, () => {
  it('strikes configured header values, including a bearer secret quoted without its scheme', () => {
    const redact = secretRedactor({
      name: 'api',
      transport: {
        type: 'http',
        url: 'https://mcp.example.com/mcp',
        headers: { Authorization: 'Bearer sk-live-123456', 'X-User': '{{user_id}}' },
      },
    });

    expect(redact('401: bad credentials sk-live-123456 in "Bearer sk-live-123456"')).toBe(
      '401: bad credentials [redacted] in "[redacted]"',
    );
  });

  it('strikes credentials in the URL', () => {
    const redact = secretRedactor({
      name: 'api',
      transport: { type: 'http', url: 'https://svc:p4ssw0rd!@mcp.example.com/mcp?api_key=abcdef123' },
    });

    expect(redact('rejected p4ssw0rd! and abcdef123')).toBe('rejected [redacted] and [redacted]');
  });

  it("strikes a stdio server's env values, but not short settings that are not secrets", () => {
    const redact = secretRedactor({
      name: 'files',
      transport: { type: 'stdio', command: 'x', env: { API_TOKEN: 'tok_0123456789', DEBUG: '1' } },
    });

    expect(redact('login with tok_0123456789 failed (attempt 1)')).toBe('login with [redacted] failed (attempt 1)');
  });

  it('strikes any JWT, such as a rendered {{user_token}}', () => {
    const redact = secretRedactor({ name: 'builtin', transport: { type: 'stdio', command: 'x' } });

    expect(redact('token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhIn0.sig-_123 expired')).toBe('token [redacted] expired');
  });
});
