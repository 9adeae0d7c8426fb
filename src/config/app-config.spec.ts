import { ConfigError, loadConfig } from './app-config';

const BASE = { NODE_ENV: 'test', JWT_SECRET: 'unit-test-secret' };

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig({ ...BASE, ...env });
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe(loadConfig.name, () => {
  it('reads CORS_ORIGINS as a list of exact origins, none when unset', () => {
    expect(loadConfig(BASE).corsOrigins).toEqual([]);
    expect(loadConfig({ ...BASE, CORS_ORIGINS: 'https://app.example.com, http://localhost:5173' }).corsOrigins).toEqual(
      ['https://app.example.com', 'http://localhost:5173'],
    );
  });

  it.each([
    '*',
    'https://app.example.com/path',
    'app.example.com',
    'ftp://files.example.com',
    'https://a.example.com,',
  ])('refuses CORS_ORIGINS=%j, naming the key', (value) => {
    expect(problemsOf({ CORS_ORIGINS: value }).join('\n')).toMatch(/^CORS_ORIGINS: /);
  });

  it('refuses a header timeout longer than the request timeout', () => {
    expect(problemsOf({ HTTP_HEADERS_TIMEOUT_MS: '20000', HTTP_REQUEST_TIMEOUT_MS: '10000' })).toEqual([
      'HTTP_HEADERS_TIMEOUT_MS: must not exceed HTTP_REQUEST_TIMEOUT_MS',
    ]);
  });

  it('refuses an idle-connection timeout that would cut a non-streamed turn', () => {
    expect(problemsOf({ HTTP_CONNECTION_TIMEOUT_MS: '60000' }).join('\n')).toMatch(/^HTTP_CONNECTION_TIMEOUT_MS: /);
    expect(problemsOf({ HTTP_CONNECTION_TIMEOUT_MS: '0' })).toEqual([]);
  });

  it('refuses a METRICS_TOKEN too short to be a secret', () => {
    expect(problemsOf({ METRICS_TOKEN: 'short' }).join('\n')).toMatch(/^METRICS_TOKEN: /);
  });
});
