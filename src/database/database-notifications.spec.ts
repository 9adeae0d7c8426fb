import { Client } from 'pg';
import { loadConfig } from '../config/app-config';
import { DatabaseNotifications, notificationMode } from './database-notifications';

jest.mock('pg', () => ({ Client: jest.fn() }));

const config = (env: Record<string, string>) =>
  loadConfig({ NODE_ENV: 'test', JWT_SECRET: 'notifications-spec', ...env });
const POSTGRES = 'postgres://u@db:5432/chat';
const PGBOUNCER = 'postgres://u@db:6432/chat';

describe(notificationMode.name, () => {
  it.each([
    ['the embedded database', {}, 'local'],
    ['PostgreSQL', { DATABASE_URL: POSTGRES }, 'listen'],
    ['PgBouncer without DATABASE_DIRECT_URL', { DATABASE_URL: PGBOUNCER }, 'poll'],
    [
      'a declared PgBouncer without DATABASE_DIRECT_URL',
      { DATABASE_URL: POSTGRES, DATABASE_POOLER: 'pgbouncer' },
      'poll',
    ],
    ['PgBouncer with DATABASE_DIRECT_URL', { DATABASE_URL: PGBOUNCER, DATABASE_DIRECT_URL: POSTGRES }, 'listen'],
  ])('on %s is %s', (_, env: Record<string, string>, mode) => {
    expect(notificationMode(config(env))).toBe(mode);
    expect(new DatabaseNotifications(config(env)).mode).toBe(mode);
  });

  it.each([
    ['PgBouncer without DATABASE_DIRECT_URL', { DATABASE_URL: PGBOUNCER }],
    ['the embedded database', {}],
  ])('opens no LISTEN connection on %s', async (_, env: Record<string, string>) => {
    const notifications = new DatabaseNotifications(config(env));
    notifications.on('chat_turn_events', () => undefined);

    notifications.onApplicationBootstrap();
    await notifications.onApplicationShutdown();

    expect(Client).not.toHaveBeenCalled();
  });
});
