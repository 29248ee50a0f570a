import { promisify } from "node:util";
import { gzip as gzipCallback } from "node:zlib";
import type { Logger } from "pino";
import {
  buildDigest,
  DIGEST_SIGNATURE_ALGORITHM,
  type DigestLogFile,
  digestKey,
  signDigest,
  signingString,
} from "../domain/digest.ts";
import type { Trail } from "../domain/trail.ts";
import {
  type Clock,
  type DeliveryStore,
  type DigestChain,
  type DigestChainStore,
  type KeyStore,
  type ObjectStore,
  ObjectStoreError,
} from "../ports/index.ts";
import { runEvery, serialPasses } from "./loop.ts";

const gzip = promisify(gzipCallback);

export const DEFAULT_DIGEST_INTERVAL_MS = 3_600_000;

export interface DigestOptions {
  chains: DigestChainStore;
  /** Every trail of every account. */
  listTrails: () => Promise<Trail[]>;
  deliveries: Pick<DeliveryStore, "deliveredFiles" | "pendingFiles" | "backlog" | "destination">;
  keys: KeyStore;
  objects: ObjectStore;
  clock: Clock;
  log: Logger;
  /** Regions a multi-Region trail delivers from. */
  regions: readonly string[];
  /** Length of a digest period; whole seconds (AWS: one hour). */
  intervalMs: number;
  tickMs?: number;
}

const SECOND = 1000;
const floorSecond = (ms: number) => Math.floor(ms / SECOND) * SECOND;
const chainKey = (trailArn: string, region: string) => `${trailArn}\u0000${region}`;

function sameDestination(chain: DigestChain, trail: Trail): boolean {
  return chain.bucket === trail.s3BucketName && chain.prefix === (trail.s3KeyPrefix ?? "");
}

/** Where the trail's current logging period began, if it is logging. */
function loggingSince(trail: Trail): number | undefined {
  const open = trail.loggingPeriods?.findLast((p) => p.stop === undefined);
  return open?.start ?? trail.startLoggingTime?.getTime();
}

/**
 * Writes the signed digest files of every (trail, region) whose trail logs with validation on: one
 * per period, empty periods included, chained by their `previous*` members; a final digest closes
 * the chain once the trail stops logging, drops validation, is deleted or moves its destination.
 */
export function createDigestWorker(opts: DigestOptions) {
  const { chains, deliveries, keys, objects, clock, log } = opts;
  const intervalMs = Math.max(SECOND, floorSecond(opts.intervalMs));
  const tickMs = opts.tickMs ?? Math.min(1000, intervalMs);
  // chains seen ending, closed one pass later: the call that ended them (StopLogging ...) records
  // itself just after it returns, and its log file belongs in the final digest
  const ending = new Set<string>();

  /** Lanes whose log files are still on their way: a digest over them would miss a file. */
  async function busyLanes(): Promise<{ pending: Set<string>; backlog: Set<string> }> {
    const arns = new Map<number, string | undefined>();
    const arnOf = async (id: number) => {
      if (!arns.has(id)) arns.set(id, (await deliveries.destination(id))?.trailArn);
      return arns.get(id);
    };
    const pending = new Set<string>();
    for (const f of await deliveries.pendingFiles()) {
      const arn = await arnOf(f.destinationId);
      if (arn) pending.add(chainKey(arn, f.region));
    }
    const backlog = new Set(pending);
    for (const lane of await deliveries.backlog()) {
      const arn = await arnOf(lane.destinationId);
      if (arn) backlog.add(chainKey(arn, lane.region));
    }
    return { pending, backlog };
  }

  /** Writes one digest over files delivered in [start, until); false when the put failed. */
  async function writeDigest(chain: DigestChain, start: Date, end: Date, until: Date): Promise<boolean> {
    const head = chain.prefix ? `${chain.prefix}/` : "";
    // files of an earlier destination of the same trail belong to that destination's chain
    const files: DigestLogFile[] = (
      await deliveries.deliveredFiles(chain.trailArn, chain.region, start, until)
    ).filter((f) => f.bucket === chain.bucket && f.key.startsWith(`${head}AWSLogs/`));
    const signingKey = await keys.activeKey(chain.region, clock.now());
    const key = digestKey({
      prefix: chain.prefix,
      accountId: chain.accountId,
      region: chain.region,
      trailName: chain.trailName,
      homeRegion: chain.homeRegion,
      endTime: end,
    });
    const built = buildDigest({
      accountId: chain.accountId,
      startTime: start,
      endTime: end,
      bucket: chain.bucket,
      key,
      fingerprint: signingKey.fingerprint,
      previous: chain.previous,
      logFiles: files,
    });
    const signature = signDigest(
      signingKey.privateKeyPem,
      signingString(end, chain.bucket, key, built.sha256Hex, chain.previous?.signature ?? null),
    );
    try {
      await objects.putObject(chain.bucket, key, await gzip(built.bytes), {
        contentType: "application/json",
        contentEncoding: "gzip",
        metadata: { signature, "signature-algorithm": DIGEST_SIGNATURE_ALGORITHM },
      });
    } catch (e) {
      const code = e instanceof ObjectStoreError ? e.code : "InternalError";
      log.warn({ trailArn: chain.trailArn, key, code }, "digest delivery failed; will retry");
      return false;
    }
    chain.previous = { bucket: chain.bucket, key, signature, sha256: built.sha256Hex };
    log.info({ trailArn: chain.trailArn, key, logFiles: files.length }, "delivered digest file");
    return true;
  }

  /** Regular digests for every whole period up to `now`. */
  async function advance(chain: DigestChain, now: number): Promise<void> {
    while (chain.periodStart.getTime() + intervalMs <= now) {
      const start = chain.periodStart;
      const end = new Date(start.getTime() + intervalMs);
      if (!(await writeDigest(chain, start, end, end))) return;
      chain.periodStart = end;
      await chains.saveChain(chain);
    }
  }

  /**
   * The final digest covers [start, now]: its end is the next whole second, so that it names a key
   * of its own even when it follows a regular digest within the same second.
   */
  async function close(chain: DigestChain, now: number): Promise<DigestChain | undefined> {
    const start = chain.periodStart;
    const end = new Date(Math.max(floorSecond(now) + SECOND, start.getTime() + SECOND));
    if (!(await writeDigest(chain, start, end, end))) return undefined;
    const closed = { ...chain, closedAt: end };
    await chains.saveChain(closed);
    return closed;
  }

  function opening(trail: Trail, region: string, old: DigestChain | undefined, now: number): DigestChain {
    // a chain starts when validation became active; the trail's logging start is the best record
    // of that, but never more than one period back (validation turned on for a long-logging trail)
    let start = Math.max(loggingSince(trail) ?? now, now - intervalMs);
    if (old?.closedAt) {
      const oldEnd = sameDestination(old, trail) ? old.closedAt.getTime() : old.periodStart.getTime();
      start = Math.max(start, oldEnd);
    }
    return {
      trailArn: trail.arn,
      region,
      accountId: trail.accountId,
      trailName: trail.name,
      homeRegion: trail.homeRegion,
      bucket: trail.s3BucketName,
      prefix: trail.s3KeyPrefix ?? "",
      periodStart: new Date(Math.min(floorSecond(start), floorSecond(now))),
      previous: null,
    };
  }

  async function runOnce(force: boolean): Promise<void> {
    const now = clock.now().getTime();
    const wanted = new Map<string, { trail: Trail; region: string }>();
    for (const trail of await opts.listTrails()) {
      if (!trail.isLogging || !trail.logFileValidationEnabled) continue;
      for (const region of trail.isMultiRegionTrail ? opts.regions : [trail.homeRegion]) {
        wanted.set(chainKey(trail.arn, region), { trail, region });
      }
    }
    const known = new Map((await chains.chains()).map((c) => [chainKey(c.trailArn, c.region), c]));
    const busy = await busyLanes();

    for (const [key, chain] of known) {
      if (chain.closedAt) continue;
      const w = wanted.get(key);
      if (w && sameDestination(chain, w.trail)) {
        ending.delete(key);
        if (!busy.pending.has(key)) await advance(chain, now);
        continue;
      }
      if (!force && !ending.has(key)) {
        ending.add(key);
        continue;
      }
      if (busy.backlog.has(key)) continue;
      const closed = await close(chain, now);
      if (!closed) continue;
      ending.delete(key);
      known.set(key, closed);
    }

    for (const [key, { trail, region }] of wanted) {
      const old = known.get(key);
      // a destination change opens the new chain only once the old one is closed
      if (old && !old.closedAt) continue;
      const chain = opening(trail, region, old, now);
      await chains.saveChain(chain);
      if (!busy.pending.has(key)) await advance(chain, now);
    }
  }

  const once = serialPasses(runOnce);

  return {
    /** Writes the digests that are due now. */
    runOnce: () => once(false),
    /**
     * Also closes ended chains without waiting a pass (tests, shutdown): drain delivery first, so
     * the final digests list the last log files.
     */
    drain: () => once(true),
    start: (signal: AbortSignal): Promise<void> =>
      runEvery(signal, tickMs, () => once(false), log, "digest pass"),
  };
}

export type DigestWorker = ReturnType<typeof createDigestWorker>;
