import { randomUUID } from "node:crypto";
import pg from "pg";
import type { TrailChangeFeed } from "../../ports/index.ts";

/** How long to wait before listening again after the connection was lost. */
const RECONNECT_MS = 1000;

interface Notice {
  /** The announcing node: a node does not hear its own notices again. */
  node: string;
  /** Empty for every account. */
  account: string;
}

/**
 * Trail changes over LISTEN/NOTIFY, on one channel per schema. Announcing takes a connection of
 * the pool for one statement; listening holds a connection of its own, opened on the first
 * `listen` (ingest threads, which hear changes from their own node, never open one). When that
 * connection is lost the feed listens again and tells its listeners that anything may have
 * changed, since notices sent meanwhile are gone.
 */
export class PgTrailFeed implements TrailChangeFeed {
  readonly #pool: pg.Pool;
  readonly #connection: pg.ClientConfig;
  readonly #channel: string;
  readonly #node = randomUUID();
  readonly #listeners: ((accountId?: string) => void)[] = [];
  #client: pg.Client | undefined;
  #closed = false;
  #retry: NodeJS.Timeout | undefined;

  constructor(pool: pg.Pool, connection: pg.ClientConfig, schema: string | undefined) {
    this.#pool = pool;
    this.#connection = connection;
    this.#channel = `opentrail_trails${schema === undefined ? "" : `_${schema}`}`;
  }

  async announce(accountId?: string): Promise<void> {
    const notice: Notice = { node: this.#node, account: accountId ?? "" };
    await this.#pool.query("SELECT pg_notify($1, $2)", [this.#channel, JSON.stringify(notice)]);
  }

  async listen(listener: (accountId?: string) => void): Promise<void> {
    this.#listeners.push(listener);
    if (this.#client === undefined) await this.#connect();
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#retry);
    const client = this.#client;
    this.#client = undefined;
    await client?.end().catch(() => {});
  }

  #tell(accountId?: string): void {
    for (const listener of this.#listeners) listener(accountId);
  }

  async #connect(): Promise<void> {
    const client = new pg.Client(this.#connection);
    this.#client = client;
    client.on("notification", (message) => {
      if (message.channel !== this.#channel || message.payload === undefined) return;
      const notice = JSON.parse(message.payload) as Notice;
      if (notice.node !== this.#node) this.#tell(notice.account === "" ? undefined : notice.account);
    });
    const lost = () => {
      if (this.#client !== client || this.#closed) return;
      this.#client = undefined;
      client.end().catch(() => {});
      this.#retry = setTimeout(() => this.#reconnect(), RECONNECT_MS);
      this.#retry.unref();
    };
    client.on("error", lost);
    client.on("end", lost);
    await client.connect();
    await client.query(`LISTEN ${pg.escapeIdentifier(this.#channel)}`);
  }

  #reconnect(): void {
    if (this.#closed) return;
    this.#connect().then(
      // notices sent while nobody listened are gone: every account may have changed
      () => this.#tell(undefined),
      () => {
        if (this.#closed) return;
        this.#client = undefined;
        this.#retry = setTimeout(() => this.#reconnect(), RECONNECT_MS);
        this.#retry.unref();
      },
    );
  }
}
