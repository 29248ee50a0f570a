import { createHash } from "node:crypto";
import { promisify } from "node:util";
import { gzip as gzipCallback } from "node:zlib";
import type { Logger } from "pino";
import { logFileBody, logFileKey, uniquePart } from "../domain/log-files.ts";
import {
  type Clock,
  type DeliveryStore,
  type ObjectStore,
  ObjectStoreError,
  type OutboxBatch,
  type PendingFile,
} from "../ports/index.ts";
import { runEvery, serialPasses } from "./loop.ts";

// zlib's async gzip runs on libuv's thread pool: compression stays off the event loop
const gzip = promisify(gzipCallback);

/**
 * Compression level 3: on log files of ~1.2 KB management records it costs 3.5 µs per record
 * where zlib's default (6) costs 8.5, for files about a fifth larger (10.1 instead of 12.3 times
 * smaller); at 30,000 records/s that is a sixth of a core. Levels 1 to 3 cost the same.
 */
const GZIP_LEVEL = 3;

/**
 * Async zlib works in output chunks (16 KB by default), and each chunk goes back to the event loop
 * before the next is compressed: behind a loop busy with ingest, a 16 MB file took seconds, one
 * turn of the loop per chunk. Log files shrink more than fourfold (JSON of records, about tenfold),
 * so an output buffer a quarter of the body compresses a file in one trip to the thread pool.
 */
function compress(body: Buffer): Promise<Buffer> {
  return gzip(body, { level: GZIP_LEVEL, chunkSize: Math.max(64 * 1024, Math.ceil(body.length / 4)) });
}

export interface DeliveryOptions {
  store: DeliveryStore;
  objects: ObjectStore;
  clock: Clock;
  log: Logger;
  /** How long records wait before their file is written (AWS: about 5 minutes). */
  intervalMs: number;
  /** How often the worker looks for due work. */
  tickMs?: number;
  /** Uncompressed size at which a file is written early, and the most one file holds. */
  flushBytes?: number;
  maxRecordsPerFile?: number;
  random: (bytes: number) => Uint8Array;
}

export const DEFAULT_DELIVERY_INTERVAL_MS = 300_000;
const DEFAULT_FLUSH_BYTES = 16 * 1024 * 1024;
const DEFAULT_MAX_RECORDS = 50_000;
const MAX_BACKOFF_MS = 60_000;

type Lane = { destinationId: number; region: string };
const laneKey = (l: Lane) => `${l.destinationId}/${l.region}`;

/**
 * Delivers the outbox as gzipped log files, exactly once per (destination, event): a file is
 * written down as pending (key and outbox range) before it is put, and committed after; after a
 * crash the same key is put again with the same body.
 */
export function createDeliveryWorker(opts: DeliveryOptions) {
  const { store, objects, clock, log } = opts;
  // four looks per interval (at most one a second): a lane that turns due waits a quarter of
  // an interval for its pass, where a look per interval made records wait up to two intervals
  const tickMs = opts.tickMs ?? Math.min(1000, Math.max(10, opts.intervalMs / 4));
  const flushBytes = opts.flushBytes ?? DEFAULT_FLUSH_BYTES;
  const maxRecords = opts.maxRecordsPerFile ?? DEFAULT_MAX_RECORDS;
  // id → passes left: a flush asked for inside a call holds for one more pass, so the call's own
  // record (stored just after the call returns) still makes it into the final file
  const flushRequested = new Map<number, number>();
  const failures = new Map<string, { count: number; retryAt: number }>();

  async function put(file: PendingFile, batch: OutboxBatch): Promise<boolean> {
    const destination = await store.destination(file.destinationId);
    if (!destination) throw new Error(`pending file of unknown destination ${file.destinationId}`);
    const body = Buffer.from(logFileBody(batch.records), "utf8");
    const now = clock.now();
    try {
      await objects.putObject(destination.bucket, file.key, await compress(body), {
        contentType: "application/json",
        contentEncoding: "gzip",
        kmsKeyId: destination.kmsKeyId,
      });
    } catch (e) {
      const code = e instanceof ObjectStoreError ? e.code : "InternalError";
      await store.recordAttempt(destination.trailArn, file.region, now, code);
      const lane = laneKey(file);
      const count = (failures.get(lane)?.count ?? 0) + 1;
      failures.set(lane, { count, retryAt: now.getTime() + Math.min(MAX_BACKOFF_MS, 500 * 2 ** count) });
      log.warn(
        { trailArn: destination.trailArn, key: file.key, code },
        "log file delivery failed; will retry",
      );
      return false;
    }
    failures.delete(laneKey(file));
    await store.completeFile(file, {
      destinationId: file.destinationId,
      trailArn: destination.trailArn,
      region: file.region,
      bucket: destination.bucket,
      key: file.key,
      sha256: createHash("sha256").update(body).digest("hex"),
      oldestEventTime: batch.oldestEventTime,
      newestEventTime: batch.newestEventTime,
      deliveredAt: now,
    });
    log.info(
      { trailArn: destination.trailArn, key: file.key, records: batch.records.length },
      "delivered log file",
    );
    return true;
  }

  /** Re-puts a pending file from its outbox rows: the body is rebuilt byte for byte. */
  async function retryPending(file: PendingFile): Promise<boolean> {
    const batch = await store.batchOf(file);
    if (!batch) throw new Error(`outbox rows of pending file ${file.key} are gone`);
    return put(file, batch);
  }

  async function deliverLane(lane: Lane): Promise<void> {
    const destination = await store.destination(lane.destinationId);
    if (!destination) return;
    for (;;) {
      const batch = await store.nextBatch(lane.destinationId, lane.region, maxRecords, flushBytes);
      if (!batch) return;
      const at = clock.now();
      const file: PendingFile = {
        destinationId: lane.destinationId,
        region: lane.region,
        key: logFileKey({
          prefix: destination.prefix,
          accountId: destination.accountId,
          region: lane.region,
          deliveredAt: at,
          unique: uniquePart(opts.random(16)),
        }),
        firstId: batch.firstId,
        lastId: batch.lastId,
      };
      await store.writePending(file);
      if (!(await put(file, batch))) return;
    }
  }

  /** One pass: pending files first, then every lane that is due (or all lanes when forced). */
  async function runOnce(force: boolean): Promise<void> {
    const now = clock.now().getTime();
    for (const file of await store.pendingFiles()) {
      const f = failures.get(laneKey(file));
      if (!force && f && f.retryAt > now) continue;
      await retryPending(file);
    }
    const pendingLanes = new Set((await store.pendingFiles()).map(laneKey));
    for (const lane of await store.backlog()) {
      if (pendingLanes.has(laneKey(lane))) continue;
      const f = failures.get(laneKey(lane));
      if (!force && f && f.retryAt > now) continue;
      const due =
        force ||
        (flushRequested.get(lane.destinationId) ?? 0) > 0 ||
        lane.bytes >= flushBytes ||
        now - lane.oldestEnqueuedAt.getTime() >= opts.intervalMs;
      if (due) await deliverLane(lane);
    }
    for (const [id, left] of flushRequested) {
      if (left <= 1) flushRequested.delete(id);
      else flushRequested.set(id, left - 1);
    }
  }

  const once = serialPasses(runOnce);

  return {
    /** Ask for the destinations' files to be written at the next pass (StopLogging, DeleteTrail, new bucket). */
    requestFlush(destinationIds: Iterable<number>): void {
      for (const id of destinationIds) flushRequested.set(id, 2);
    },
    /** Delivers everything that is due now. */
    runOnce: () => once(false),
    /** Delivers everything, due or not (tests, shutdown). Failed puts stay pending. */
    drain: () => once(true),
    /** Runs until `signal` aborts; errors are logged and the loop goes on. */
    start: (signal: AbortSignal): Promise<void> =>
      runEvery(signal, tickMs, () => once(false), log, "delivery pass"),
  };
}

export type DeliveryWorker = ReturnType<typeof createDeliveryWorker>;
