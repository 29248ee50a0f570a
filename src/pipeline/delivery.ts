import { createHash } from "node:crypto";
import { promisify } from "node:util";
import { gunzip as gunzipCallback, gzip as gzipCallback } from "node:zlib";
import type { Logger } from "pino";
import { logFileBody, logFileKey, uniquePart } from "../domain/log-files.ts";
import { type Trail, trailDestination } from "../domain/trail.ts";
import {
  type Clock,
  type DeliveredFile,
  type DeliveryStore,
  type Destination,
  type ObjectStore,
  ObjectStoreError,
  type OutboxBatch,
  type PendingFile,
} from "../ports/index.ts";
import type { PutGate } from "./delivery-policy.ts";
import { type LeaseOptions, underLease, type WorkLeases, workLeases } from "./leases.ts";
import { forcedPasses } from "./loop.ts";

// zlib's async gzip runs on libuv's thread pool: compression stays off the event loop
const gzip = promisify(gzipCallback);
const gunzip = promisify(gunzipCallback);

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
  /** Told of each log file put and each failed put (the server's /metrics counts them). */
  observe?: DeliveryObserver;
  /**
   * The destination the files of a destination's trail go to now (undefined: that trail is gone,
   * even if another of the same name was created since). A lane whose put
   * failed for good and whose trail has moved on (a new bucket or prefix) is moved there, so that
   * records stranded by a bad destination are delivered once the trail is fixed.
   */
  currentDestination?: (destination: Destination) => Promise<number | undefined>;
  /** Other nodes on the same store: each lane is worked by the node holding its lease. */
  lease?: LeaseOptions;
  /** Asked before each put: a refusal fails it as S3 would (bucket policy, KMS key; see delivery-policy.ts). */
  mayPut?: PutGate;
}

export interface DeliveryObserver {
  delivered(): void;
  failed(): void;
}

const UNOBSERVED: DeliveryObserver = { delivered: () => {}, failed: () => {} };

export const DEFAULT_DELIVERY_INTERVAL_MS = 300_000;
const DEFAULT_FLUSH_BYTES = 16 * 1024 * 1024;
const DEFAULT_MAX_RECORDS = 50_000;
const MAX_BACKOFF_MS = 60_000;

/** The options with their defaults in place. */
type DeliveryDeps = Required<Omit<DeliveryOptions, "currentDestination" | "lease" | "mayPut">> &
  Pick<DeliveryOptions, "currentDestination" | "mayPut"> & { leases: WorkLeases };

/** What the worker keeps between passes, in memory; records and pending files are in the store. */
interface DeliveryState {
  /**
   * Destination id → passes left: a flush asked for inside a call holds for one more pass, so the
   * call's own record (stored just after the call returns) still makes it into the final file.
   */
  flushRequested: Map<number, number>;
  /** Lane → failed puts in a row, when the lane may try again, and why the last one failed. */
  failures: Map<string, LaneFailure>;
}

interface LaneFailure {
  count: number;
  retryAt: number;
  code: string;
  trailArn: string;
  region: string;
}

/**
 * Failures that say the put did not happen and will not until something changes (the bucket, its
 * policy, the key): a file that failed so may go elsewhere, once it is not found written by an
 * earlier try (settlePending). A network error or a 5xx may have written it, so that file stays
 * where it is.
 */
const FOR_GOOD: ReadonlySet<string> = new Set([
  "NoSuchBucket",
  "AccessDenied",
  "InvalidArgument",
  "KeyTooLongError",
  "InvalidBucketName",
  "AllAccessDisabled",
  "KMS.DisabledException",
  "KMS.KMSInvalidStateException",
  "KMS.NotFoundException",
]);

/**
 * Failures of a read that say the key cannot be there (no bucket, a key the store could not hold):
 * a file whose read fails so was never written.
 */
const CANNOT_HOLD: ReadonlySet<string> = new Set([
  "NoSuchBucket",
  "InvalidArgument",
  "KeyTooLongError",
  "InvalidBucketName",
]);

type Lane = { destinationId: number; region: string };
type BacklogLane = Lane & { bytes: number; oldestEnqueuedAt: Date };
const laneKey = (l: Lane) => `${l.destinationId}/${l.region}`;
const laneLease = (l: Lane) => `delivery:${laneKey(l)}`;

function withDefaults(opts: DeliveryOptions): DeliveryDeps {
  return {
    ...opts,
    // four looks per interval (at most one a second): a lane that turns due waits a quarter of
    // an interval for its pass, where a look per interval made records wait up to two intervals
    tickMs: opts.tickMs ?? Math.min(1000, Math.max(10, opts.intervalMs / 4)),
    flushBytes: opts.flushBytes ?? DEFAULT_FLUSH_BYTES,
    maxRecordsPerFile: opts.maxRecordsPerFile ?? DEFAULT_MAX_RECORDS,
    observe: opts.observe ?? UNOBSERVED,
    leases: workLeases(opts.lease, opts.clock),
  };
}

/** 1, 2, 4 … s after the first, second, third … failure in a row, and never more than a minute. */
const backoffMs = (failures: number) => Math.min(MAX_BACKOFF_MS, 500 * 2 ** failures);

function backingOff(state: DeliveryState, lane: Lane, now: number): boolean {
  const f = state.failures.get(laneKey(lane));
  return f !== undefined && f.retryAt > now;
}

function noteFailure(state: DeliveryState, lane: Lane, at: Date, code: string, trailArn: string): void {
  const key = laneKey(lane);
  const count = (state.failures.get(key)?.count ?? 0) + 1;
  state.failures.set(key, {
    count,
    retryAt: at.getTime() + backoffMs(count),
    code,
    trailArn,
    region: lane.region,
  });
}

/** A file for the batch, named for the moment it is made. */
function newFile(deps: DeliveryDeps, destination: Destination, lane: Lane, batch: OutboxBatch): PendingFile {
  const at = deps.clock.now();
  return {
    destinationId: lane.destinationId,
    region: lane.region,
    key: logFileKey({
      prefix: destination.prefix,
      accountId: destination.accountId,
      region: lane.region,
      deliveredAt: at,
      unique: uniquePart(deps.random(16)),
      kind: destination.kind,
    }),
    firstId: batch.firstId,
    lastId: batch.lastId,
  };
}

function deliveredFile(
  destination: Destination,
  file: PendingFile,
  batch: OutboxBatch,
  body: Buffer,
  at: Date,
): DeliveredFile {
  return {
    destinationId: file.destinationId,
    trailArn: destination.trailArn,
    region: file.region,
    bucket: destination.bucket,
    key: file.key,
    sha256: createHash("sha256").update(body).digest("hex"),
    oldestEventTime: batch.oldestEventTime,
    newestEventTime: batch.newestEventTime,
    deliveredAt: at,
  };
}

/** Puts the gzipped body; the error code when the put failed. */
async function putBody(
  deps: DeliveryDeps,
  destination: Destination,
  key: string,
  body: Buffer,
): Promise<string | undefined> {
  try {
    const refused = await deps.mayPut?.refusal(destination, key);
    if (refused !== undefined) {
      deps.mayPut?.forget(destination);
      return refused;
    }
    await deps.objects.putObject(destination.bucket, key, await compress(body), {
      contentType: "application/json",
      contentEncoding: "gzip",
      kmsKeyId: destination.kmsKeyId,
    });
    return undefined;
  } catch (e) {
    deps.mayPut?.forget(destination);
    return e instanceof ObjectStoreError ? e.code : "InternalError";
  }
}

/** Puts a pending file and records the outcome; false when the put failed (the file stays pending). */
async function putFile(
  deps: DeliveryDeps,
  state: DeliveryState,
  file: PendingFile,
  batch: OutboxBatch,
): Promise<boolean> {
  const destination = await deps.store.destination(file.destinationId);
  if (!destination) throw new Error(`pending file of unknown destination ${file.destinationId}`);
  const body = Buffer.from(logFileBody(batch.records), "utf8");
  const now = deps.clock.now();
  const code = await putBody(deps, destination, file.key, body);
  if (code !== undefined) {
    await deps.store.putFailed(file, now, code);
    noteFailure(state, file, now, code, destination.trailArn);
    deps.observe.failed();
    deps.log.warn(
      { trailArn: destination.trailArn, key: file.key, code },
      "log file delivery failed; will retry",
    );
    return false;
  }
  state.failures.delete(laneKey(file));
  await deps.store.completeFile(file, deliveredFile(destination, file, batch, body, now));
  deps.observe.delivered();
  deps.log.info(
    { trailArn: destination.trailArn, key: file.key, records: batch.records.length },
    "delivered log file",
  );
  return true;
}

/** Re-puts a pending file from its outbox rows: the body is rebuilt byte for byte. */
async function retryPending(deps: DeliveryDeps, state: DeliveryState, file: PendingFile): Promise<boolean> {
  const batch = await deps.store.batchOf(file);
  if (!batch) throw new Error(`outbox rows of pending file ${file.key} are gone`);
  return putFile(deps, state, file, batch);
}

/** Files until the lane is empty or a put fails; each is written down as pending before its put. */
async function deliverLane(deps: DeliveryDeps, state: DeliveryState, lane: Lane): Promise<void> {
  const destination = await deps.store.destination(lane.destinationId);
  if (!destination) return;
  for (;;) {
    const batch = await deps.store.nextBatch(
      lane.destinationId,
      lane.region,
      deps.maxRecordsPerFile,
      deps.flushBytes,
    );
    if (!batch) return;
    const file = newFile(deps, destination, lane, batch);
    await deps.store.writePending(file);
    if (!(await putFile(deps, state, file, batch))) return;
    // a lease lost while putting (this node stalled past it): the node that took it goes on
    if (!(await deps.leases.keep(laneLease(lane)))) return;
  }
}

function isDue(deps: DeliveryDeps, state: DeliveryState, lane: BacklogLane, now: number): boolean {
  return (
    (state.flushRequested.get(lane.destinationId) ?? 0) > 0 ||
    lane.bytes >= deps.flushBytes ||
    now - lane.oldestEnqueuedAt.getTime() >= deps.intervalMs
  );
}

/**
 * Whether a pending file is at its destination already. Its last put failing for good says nothing
 * of the tries before it: a put that failed with a network error or a 5xx, or that a crash cut
 * short, may have written it, and the key being disabled since then fails every later try. So
 * before its records go elsewhere the file is looked for: "written" (the object, read back),
 * "absent" when it is not there or cannot be, "unknown" when the store does not say (access denied,
 * the key refused for the read).
 */
async function lookFor(
  deps: DeliveryDeps,
  destination: Destination,
  file: PendingFile,
): Promise<{ found: "written"; body: Buffer } | { found: "absent" | "unknown" }> {
  try {
    const stored = await deps.objects.getObject(destination.bucket, file.key);
    return stored ? { found: "written", body: await gunzip(stored.body) } : { found: "absent" };
  } catch (e) {
    const code = e instanceof ObjectStoreError ? e.code : undefined;
    return { found: code !== undefined && CANNOT_HOLD.has(code) ? "absent" : "unknown" };
  }
}

/**
 * A lane's pending file as it stands before its records move: absent, or written by an earlier
 * try (then recorded as delivered, so its records are not delivered twice); false when nobody can
 * tell, and the records stay.
 */
async function settlePending(deps: DeliveryDeps, destination: Destination, lane: Lane): Promise<boolean> {
  const file = await pendingOf(deps, lane);
  if (file === undefined) return true;
  const look = await lookFor(deps, destination, file);
  if (look.found !== "written") return look.found === "absent";
  const batch = await deps.store.batchOf(file);
  if (!batch) return false;
  await deps.store.completeFile(file, deliveredFile(destination, file, batch, look.body, deps.clock.now()));
  deps.log.warn(
    { trailArn: destination.trailArn, key: file.key, records: batch.records.length },
    "log file whose last put failed was found written by an earlier try: recorded as delivered",
  );
  return true;
}

/**
 * Moves a lane whose last put failed for good to its trail's current destination, if the trail has
 * one other than the lane's; true when moved.
 */
async function moveStranded(deps: DeliveryDeps, state: DeliveryState, lane: Lane): Promise<boolean> {
  const failure = state.failures.get(laneKey(lane));
  if (failure === undefined || !FOR_GOOD.has(failure.code) || deps.currentDestination === undefined)
    return false;
  // the failure is this destination's own (ids are reused after a development reset)
  const destination = await deps.store.destination(lane.destinationId);
  if (destination?.trailArn !== failure.trailArn) return false;
  const current = await deps.currentDestination(destination);
  if (current === undefined || current === lane.destinationId) return false;
  if (!(await settlePending(deps, destination, lane))) return false;
  // the target lane's lease too: a node between reading the target's next batch and writing it
  // down as pending would otherwise cover moved rows by its id range and drop them undelivered
  const target = { destinationId: current, region: lane.region };
  const moved = await underLease(deps.leases, laneLease(target), () =>
    deps.store.moveLane(lane.destinationId, lane.region, current),
  );
  if (moved !== true) return false;
  state.failures.delete(laneKey(lane));
  deps.log.warn(
    {
      trailArn: failure.trailArn,
      region: lane.region,
      from: lane.destinationId,
      to: current,
      code: failure.code,
    },
    "moved records the trail's former destination could not take to its current one",
  );
  return true;
}

async function retryPendingFiles(
  deps: DeliveryDeps,
  state: DeliveryState,
  now: number,
  force: boolean,
): Promise<void> {
  for (const file of await deps.store.pendingFiles()) {
    await underLease(deps.leases, laneLease(file), async () => {
      // the node that held the lane until now may have delivered or moved the file meanwhile
      if ((await pendingOf(deps, file))?.key !== file.key) return;
      // a file that failed for good at a destination the trail has left goes where the trail is now
      if (await moveStranded(deps, state, file)) return;
      if (!force && backingOff(state, file, now)) return;
      if (!(await retryPending(deps, state, file))) await moveStranded(deps, state, file);
    });
  }
}

/** The lane's pending file as the store has it now (another node may have written or completed it). */
async function pendingOf(deps: DeliveryDeps, lane: Lane): Promise<PendingFile | undefined> {
  return (await deps.store.pendingFiles()).find((f) => laneKey(f) === laneKey(lane));
}

async function deliverDueLanes(
  deps: DeliveryDeps,
  state: DeliveryState,
  now: number,
  force: boolean,
): Promise<void> {
  // a lane's next batch starts at its oldest row, which a file still pending already holds
  const pendingLanes = new Set((await deps.store.pendingFiles()).map(laneKey));
  for (const lane of await deps.store.backlog()) {
    if (pendingLanes.has(laneKey(lane))) continue;
    if (!force && backingOff(state, lane, now)) continue;
    if (!force && !isDue(deps, state, lane, now)) continue;
    await underLease(deps.leases, laneLease(lane), async () => {
      // a node that died holding the lane may have left a file pending: the next pass re-puts it
      if ((await pendingOf(deps, lane)) !== undefined) return;
      await deliverLane(deps, state, lane);
    });
  }
}

function countDownFlushes(state: DeliveryState): void {
  for (const [id, left] of state.flushRequested) {
    if (left <= 1) state.flushRequested.delete(id);
    else state.flushRequested.set(id, left - 1);
  }
}

/**
 * A failed put always leaves its file pending: a failure whose lane has none is over (delivered,
 * or gone with a development reset, after which destination ids start again).
 */
async function forgetPastFailures(deps: DeliveryDeps, state: DeliveryState): Promise<void> {
  if (state.failures.size === 0) return;
  const pending = new Set((await deps.store.pendingFiles()).map(laneKey));
  for (const key of state.failures.keys()) if (!pending.has(key)) state.failures.delete(key);
}

/** One pass: pending files first, then every lane that is due (or all lanes when forced). */
async function deliveryPass(deps: DeliveryDeps, state: DeliveryState, force: boolean): Promise<void> {
  await forgetPastFailures(deps, state);
  const now = deps.clock.now().getTime();
  await retryPendingFiles(deps, state, now, force);
  await deliverDueLanes(deps, state, now, force);
  countDownFlushes(state);
}

/**
 * Delivers the outbox as gzipped log files, exactly once per (destination, event): a file is
 * written down as pending (key and outbox range) before it is put, and committed after; after a
 * crash the same key is put again with the same body.
 */
export function createDeliveryWorker(opts: DeliveryOptions) {
  const deps = withDefaults(opts);
  const state: DeliveryState = { flushRequested: new Map(), failures: new Map() };
  const passes = forcedPasses(
    (force) => deliveryPass(deps, state, force),
    deps.tickMs,
    deps.log,
    "delivery pass",
  );
  /** Ask for the destinations' files to be written at the next pass (StopLogging, DeleteTrail, new bucket). */
  const requestFlush = (destinationIds: Iterable<number>): void => {
    for (const id of destinationIds) state.flushRequested.set(id, 2);
  };
  return {
    requestFlush,
    /** Ask for a trail's current destination to be written at the next pass. */
    flushTrail(trail: Trail): void {
      deps.store.destinationFor(trailDestination(trail)).then(
        (id) => requestFlush([id]),
        (err: unknown) => deps.log.error({ err, trailArn: trail.arn }, "cannot flush trail"),
      );
    },
    /**
     * Forgets flushes asked for and failures seen (development reset: the store is empty, and
     * destination ids start again, so they would apply to other trails' lanes).
     */
    forget(): void {
      state.flushRequested.clear();
      state.failures.clear();
    },
    /** Delivers everything that is due now. */
    runOnce: passes.runOnce,
    /** Delivers everything, due or not (tests, shutdown). Failed puts stay pending. */
    drain: passes.drain,
    /** Runs until `signal` aborts; errors are logged and the loop goes on. */
    start: passes.start,
  };
}

export type DeliveryWorker = ReturnType<typeof createDeliveryWorker>;
