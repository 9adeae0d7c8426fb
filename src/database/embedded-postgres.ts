import { chmodSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';

/** Sub-folder of DATA_DIR that holds the PostgreSQL cluster. */
const PGDATA_FOLDER = 'pgdata';
const LOCK_FILE = 'pgdata.lock';
/** Sub-folder of DATA_DIR that holds the server's socket, owner-only like the socket itself. */
const SOCKET_FOLDER = 'pgsocket';
/** libpq's and pg's name for the socket of a server on the default port, found from its folder. */
const SOCKET_NAME = '.s.PGSQL.5432';
/** sun_path holds 108 bytes on Linux, 104 on macOS. */
const MAX_SOCKET_PATH_BYTES = 103;
/** Room above the pool for a second client (a CLI, psql) and for sockets that are still closing. */
const SPARE_CONNECTIONS = 4;

export interface EmbeddedPostgres {
  readonly url: string;
  /** Stops the server, then PGlite. Call it after every client has disconnected; safe to call twice. */
  close(): Promise<void>;
}

export interface EmbeddedPostgresOptions {
  dataDir: string;
  /** The largest pool that will connect: the server resets connections beyond its limit. */
  poolSize: number;
}

/**
 * PGlite checks no password, so its unix socket is the lock: owner-only folder, mode 0600 (loopback TCP
 * would let any local process read every user's data). See docs/architecture.md, "The database".
 */
export async function startEmbeddedPostgres({ dataDir, poolSize }: EmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
  mkdirSync(dataDir, { recursive: true });
  const releaseLock = lockDataDir(dataDir);
  let db: PGlite | undefined;
  try {
    db = await PGlite.create({ dataDir: join(dataDir, PGDATA_FOLDER) });
    const socketDir = prepareSocketFolder(dataDir);
    const server = new PGLiteSocketServer({
      db,
      path: join(socketDir, SOCKET_NAME),
      maxConnections: poolSize + SPARE_CONNECTIONS,
    });
    await server.start();
    chmodSync(join(socketDir, SOCKET_NAME), 0o600);
    const openDb = db;
    let closing: Promise<void> | undefined;
    return {
      url: embeddedDatabaseUrl(dataDir),
      close: () =>
        (closing ??= (async () => {
          try {
            await server.stop();
            await openDb.close();
          } finally {
            releaseLock();
          }
        })()),
    };
  } catch (error) {
    await db?.close();
    releaseLock();
    throw error;
  }
}

export function embeddedDatabaseUrl(dataDir: string): string {
  return `postgres://postgres@localhost/postgres?host=${encodeURIComponent(join(dataDir, SOCKET_FOLDER))}`;
}

/** The socket's folder, created 0700 before the server listens in it; a stale socket (we hold the lock) removed. */
function prepareSocketFolder(dataDir: string): string {
  const socketDir = join(dataDir, SOCKET_FOLDER);
  if (Buffer.byteLength(join(socketDir, SOCKET_NAME)) > MAX_SOCKET_PATH_BYTES) {
    throw new Error(
      `DATA_DIR ${dataDir} is too long a path for the embedded database's unix socket: use a shorter one`,
    );
  }
  mkdirSync(socketDir, { recursive: true, mode: 0o700 });
  chmodSync(socketDir, 0o700);
  rmSync(join(socketDir, SOCKET_NAME), { force: true });
  return socketDir;
}

/** Data folders this process holds, so a lock left by a previous process with our pid is seen as stale. */
const heldLocks = new Set<string>();

/** PGlite does not lock its data folder, and a second instance would corrupt it: a pid file refuses one. */
function lockDataDir(dataDir: string): () => void {
  const lockFile = join(dataDir, LOCK_FILE);
  try {
    writeFileSync(lockFile, `${process.pid}\n`, { flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    const owner = Number.parseInt(readFileSync(lockFile, 'utf8'), 10);
    if (heldLocks.has(lockFile) || (owner !== process.pid && isRunning(owner))) {
      throw new Error(
        `The embedded database in ${dataDir} is in use by process ${owner}. Stop it, or point DATABASE_URL at ` +
          `a PostgreSQL server; if no such process runs, delete ${lockFile}.`,
        { cause: error },
      );
    }
    writeFileSync(lockFile, `${process.pid}\n`);
  }
  heldLocks.add(lockFile);
  return () => {
    heldLocks.delete(lockFile);
    rmSync(lockFile, { force: true });
  };
}

export function isRunning(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
