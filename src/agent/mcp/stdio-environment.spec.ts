import { stdioEnvironment } from './stdio-environment';

describe(stdioEnvironment.name, () => {
  const serviceEnv = {
    PATH: '/usr/bin',
    HOME: '/home/svc',
    LANG: 'C.UTF-8',
    JWT_SECRET: 'top-secret',
    ANTHROPIC_API_KEY: 'sk-ant',
    DATABASE_URL: 'postgres://u:p@db/chat',
  };

  it('passes only the basic process variables from the service environment', () => {
    expect(stdioEnvironment(undefined, serviceEnv)).toEqual({ PATH: '/usr/bin', HOME: '/home/svc', LANG: 'C.UTF-8' });
  });

  it("never passes the service's secrets", () => {
    const env = stdioEnvironment({ API_TOKEN: 'server-own' }, serviceEnv);

    expect(env).not.toHaveProperty('ANTHROPIC_API_KEY');
    expect(env).not.toHaveProperty('DATABASE_URL');
    expect(env).not.toHaveProperty('JWT_SECRET');
  });

  it("adds the definition's env, which wins over an inherited value", () => {
    expect(stdioEnvironment({ API_TOKEN: 'server-own', HOME: '/srv/mcp' }, serviceEnv)).toEqual({
      PATH: '/usr/bin',
      HOME: '/srv/mcp',
      LANG: 'C.UTF-8',
      API_TOKEN: 'server-own',
    });
  });

  it('skips exported shell functions', () => {
    expect(stdioEnvironment(undefined, { PATH: '/bin', SHELL: '() { evil; }' })).toEqual({ PATH: '/bin' });
  });
});
