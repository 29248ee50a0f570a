import { promisify } from "node:util";
import { gunzip as gunzipCallback } from "node:zlib";
import type { Logger } from "pino";
import type { Trail } from "../domain/trail.ts";
import {
  AwsServiceError,
  type Clock,
  type FileConsumer,
  type FileOutbox,
  type FileToSend,
  type ObjectStore,
} from "../ports/index.ts";
import { type LeaseOptions, underLease, workLeases } from "./leases.ts";
import { forcedPasses } from "./loop.ts";

const gunzip = promisify(gunzipCallback);

/** A record of a log file, as parsed. */
export type LogRecord = Record<string, unknown> & { eventTime?: string };

/**
 * The records of a delivered log file, read back from its bucket, in eventTime order: outputs
 * send exactly what the bucket holds. A file that is gone has none; one that cannot be read is
 * an AwsServiceError (retried).
 */
export async function readRecords(objects: ObjectStore, file: FileToSend): Promise<LogRecord[]> {
  let records: LogRecord[];
  try {
    const stored = await objects.getObject(file.bucket, file.key);
    if (!stored) return [];
    const body = JSON.parse((await gunzip(stored.body)).toString("utf8")) as { Records?: LogRecord[] };
    records = body.Records ?? [];
  } catch (e) {
    throw new AwsServiceError("LogFileUnreadable", `read ${file.bucket}/${file.key}: ${String(e)}`, true, {
      cause: e,
    });
  }
  const time = (r: LogRecord) => r.eventTime ?? "";
  return [...records].sort((a, b) => (time(a) < time(b) ? -1 : time(a) > time(b) ? 1 : 0));
}

export type Lane = { trailArn: string; region: string };

/** One output that follows delivery (SNS notifications, CloudWatch Logs). */
export interface FileOutput {
  consumer: FileConsumer;
  /** How many waiting files one `send` is shown. */
  batch: number;
  /** Whether the trail (undefined: deleted) gets this output; its files are dropped if not. */
  wants(trail: Trail | undefined): trail is Trail;
  /** Sends the first of `files` (one or more of them); the id of the last file sent. Failures throw. */
  send(trail: Trail, lane: Lane, files: FileToSend[]): Promise<number>;
  /** What `log` says after a send. */
  what: string;
}

export interface FileOutputOptions {
  outbox: FileOutbox;
  output: FileOutput;
  /** Every trail, to find a lane's current settings. */
  listTrails: () => Promise<Trail[]>;
  clock: Clock;
  log: Logger;
  tickMs?: number;
  /** Told of each failed send (the server's /metrics counts SNS's). */
  onFailure?: () => void;
  /** Other nodes on the same store: each lane of this output is worked by the node holding its lease. */
  lease?: LeaseOptions;
}

const MAX_BACKOFF_MS = 60_000;
const DEFAULT_TICK_MS = 1_000;
const laneKey = (l: Lane) => `${l.trailArn}/${l.region}`;
/** One lease per output and lane: the lanes of one output go to several nodes, each lane to one. */
const laneLease = (consumer: FileConsumer, l: Lane) => `${consumer}:${laneKey(l)}`;

/** Whether `file` was delivered for `trail`, not for an earlier trail of the same ARN. */
const deliveredFor = (file: FileToSend, trail: Trail | undefined): trail is Trail =>
  trail !== undefined &&
  (file.trailCreatedAt === undefined || file.trailCreatedAt.getTime() === trail.createdAt.getTime());

/** How many of the first files were delivered for `trail`. */
function ofSameTrail(files: FileToSend[], trail: Trail | undefined): number {
  const end = files.findIndex((f) => !deliveredFor(f, trail));
  return end === -1 ? files.length : end;
}

/** How many of the first files were delivered for another trail than `trail` (or a deleted one). */
function runOfOtherTrails(files: FileToSend[], trail: Trail | undefined): number {
  const end = files.findIndex((f) => deliveredFor(f, trail));
  return end === -1 ? files.length : end;
}

/**
 * Works one output's outbox, at least once: a file leaves it only after the output took it (a
 * crash in between sends it again). Among nodes sharing the store, a lane is worked by one node
 * at a time, the one holding its lease; another node sends a file again only if the node that
 * held the lane died (or stalled past its lease) between the send and recording it. While the
 * output fails, the files wait in the database, the lane backs off (1, 2, 4 … s up to a minute)
 * and GetTrailStatus shows the error; delivery never waits for this worker, and one failing lane
 * does not hold the others.
 */
export function createFileOutputWorker(opts: FileOutputOptions) {
  const { outbox, output } = opts;
  const leases = workLeases(opts.lease, opts.clock);
  const failures = new Map<string, { count: number; retryAt: number }>();

  async function workLane(lane: Lane, trail: Trail | undefined): Promise<void> {
    for (;;) {
      const waiting = await outbox.filesFor(output.consumer, lane.trailArn, lane.region, output.batch);
      if (waiting.length === 0) return;
      // a lane holds one trail at a time: the files of a deleted one of the same ARN go unsent
      const ofTrail = ofSameTrail(waiting, trail);
      const files =
        ofTrail === 0 ? waiting.slice(0, runOfOtherTrails(waiting, trail)) : waiting.slice(0, ofTrail);
      if (ofTrail === 0 || !output.wants(trail)) {
        await outbox.handled(output.consumer, lane.trailArn, lane.region, files[files.length - 1]!.id);
        continue;
      }
      const now = opts.clock.now();
      let through: number;
      try {
        through = await output.send(trail, lane, files);
      } catch (e) {
        const code = e instanceof AwsServiceError ? e.code : "InternalError";
        await outbox.failed(output.consumer, lane.trailArn, lane.region, now, code);
        opts.onFailure?.();
        const count = (failures.get(laneKey(lane))?.count ?? 0) + 1;
        failures.set(laneKey(lane), {
          count,
          retryAt: now.getTime() + Math.min(MAX_BACKOFF_MS, 500 * 2 ** count),
        });
        opts.log.warn({ err: e, trailArn: lane.trailArn, code }, `${output.what} failed; will retry`);
        return;
      }
      failures.delete(laneKey(lane));
      await outbox.handled(output.consumer, lane.trailArn, lane.region, through, now);
      opts.log.info({ trailArn: lane.trailArn, region: lane.region, through }, output.what);
      // a lease lost while sending (this node stalled past it): the node that took it goes on
      if (!(await leases.keep(laneLease(output.consumer, lane)))) return;
    }
  }

  async function pass(force: boolean): Promise<void> {
    const lanes = await outbox.lanes(output.consumer);
    if (lanes.length === 0) return;
    const trails = new Map((await opts.listTrails()).map((t) => [t.arn, t]));
    const now = opts.clock.now().getTime();
    for (const lane of lanes) {
      const f = failures.get(laneKey(lane));
      if (!force && f !== undefined && f.retryAt > now) continue;
      // the files are read under the lease: the node that held it until now may have sent some
      await underLease(leases, laneLease(output.consumer, lane), () =>
        workLane(lane, trails.get(lane.trailArn)),
      );
    }
  }

  return forcedPasses(pass, opts.tickMs ?? DEFAULT_TICK_MS, opts.log, `${output.consumer} pass`);
}

export type FileOutputWorker = ReturnType<typeof createFileOutputWorker>;
