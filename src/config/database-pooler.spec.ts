import { loadConfig } from './app-config';

const config = (env: Record<string, string>) => loadConfig({ NODE_ENV: 'test', JWT_SECRET: 'pooler-spec', ...env });

describe('DATABASE_POOLER', () => {
  it.each([
    ['a URL on PgBouncer’s default port, when auto', { DATABASE_URL: 'postgres://u@db:6432/chat' }, 'pgbouncer'],
    ['a URL on PostgreSQL’s port, when auto', { DATABASE_URL: 'postgres://u@db:5432/chat' }, 'none'],
    ['no URL (the embedded database)', {}, 'none'],
    [
      'a declared pooler on any port',
      { DATABASE_URL: 'postgres://u@db/chat', DATABASE_POOLER: 'pgbouncer' },
      'pgbouncer',
    ],
    ['a declared absence on port 6432', { DATABASE_URL: 'postgres://u@db:6432/chat', DATABASE_POOLER: 'none' }, 'none'],
  ])('is resolved from %s', (_, env: Record<string, string>, expected) => {
    expect(config(env).db.pooler).toBe(expected);
  });

  it('refuses a value it does not know', () => {
    expect(() => config({ DATABASE_POOLER: 'pgpool' })).toThrow(/DATABASE_POOLER/);
  });

  it('keeps DATABASE_DIRECT_URL for migrations, and refuses one that is not postgres://', () => {
    expect(config({ DATABASE_DIRECT_URL: 'postgres://u@db:5432/chat' }).databaseDirectUrl).toBe(
      'postgres://u@db:5432/chat',
    );
    expect(() => config({ DATABASE_DIRECT_URL: 'mysql://db/chat' })).toThrow(/DATABASE_DIRECT_URL/);
  });
});
