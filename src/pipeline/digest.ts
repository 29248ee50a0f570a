import { promisify } from "node:util";
import { gzip as gzipCallback } from "node:zlib";
import type { Logger } from "pino";
import {
  type BuiltDigest,
  buildDigest,
  DIGEST_SIGNATURE_ALGORITHM,
  type DigestLogFile,
  digestKey,
  signDigest,
  signingString,
} from "../domain/digest.ts";
import { isInsightFileKey } from "../domain/log-files.ts";
import type { Trail } from "../domain/trail.ts";
import {
  type Clock,
  type DeliveryStore,
  type DigestChain,
  type DigestChainStore,
  type FileOutbox,
  type KeyStore,
  type ObjectStore,
  ObjectStoreError,
} from "../ports/index.ts";
import type { PutGate } from "./delivery-policy.ts";
import { type LeaseOptions, type WorkLeases, workLeases } from "./leases.ts";
import { forcedPasses } from "./loop.ts";

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
  /** Where GetTrailStatus finds the digest delivery fields; absent, they are not kept. */
  status?: Pick<FileOutbox, "recordOutcome">;
  /** Other nodes on the same store: each chain is advanced by the node holding its lease. */
  lease?: LeaseOptions;
  /**
   * Asked before each put, as for log files: a bucket policy that no longer lets CloudTrail write
   * fails the digest with AccessDenied (LatestDigestDeliveryError) and the chain waits. Digest
   * files are not encrypted with the trail's KMS key (policy-checks.md §4.1), so no key is asked.
   */
  gate?: PutGate;
}

/** The options with their defaults in place and the period in whole seconds. */
type DigestDeps = Required<Omit<DigestOptions, "status" | "lease" | "gate">> &
  Pick<DigestOptions, "status" | "gate"> & { leases: WorkLeases };

interface DigestState {
  /**
   * Chains seen ending, closed one pass later: the call that ended them (StopLogging ...) records
   * itself just after it returns, and its log file belongs in the final digest.
   */
  ending: Set<string>;
}

/** What a pass works from, read once at its start. */
interface PassView {
  now: number;
  force: boolean;
  /** The (trail, region) pairs that should have an open chain. */
  wanted: Map<string, { trail: Trail; region: string }>;
  /** The stored chains; a chain closed in this pass replaces its entry. */
  known: Map<string, DigestChain>;
  busy: BusyLanes;
}

/** Lanes whose log files are still on their way: a digest over them would miss a file. */
interface BusyLanes {
  /** A file is written down but not yet delivered. */
  pending: Set<string>;
  /** Pending, or records wait in the outbox. */
  backlog: Set<string>;
}

const SECOND = 1000;
const floorSecond = (ms: number) => Math.floor(ms / SECOND) * SECOND;
const chainKey = (trailArn: string, region: string) => `${trailArn}\u0000${region}`;
const chainLease = (key: string) => `digest:${key.replace("\u0000", "/")}`;

function withDefaults(opts: DigestOptions): DigestDeps {
  const intervalMs = Math.max(SECOND, floorSecond(opts.intervalMs));
  return {
    ...opts,
    intervalMs,
    tickMs: opts.tickMs ?? Math.min(1000, intervalMs),
    leases: workLeases(opts.lease, opts.clock),
  };
}

function sameDestination(chain: DigestChain, trail: Trail): boolean {
  return chain.bucket === trail.s3BucketName && chain.prefix === (trail.s3KeyPrefix ?? "");
}

/** Where the trail's current logging period began, if it is logging. */
function loggingSince(trail: Trail): number | undefined {
  const open = trail.loggingPeriods?.findLast((p) => p.stop === undefined);
  return open?.start ?? trail.startLoggingTime?.getTime();
}

async function busyLanes(deliveries: DigestDeps["deliveries"]): Promise<BusyLanes> {
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

/** The chain's log files delivered in [start, until). */
async function digestLogFiles(
  deps: DigestDeps,
  chain: DigestChain,
  start: Date,
  until: Date,
): Promise<DigestLogFile[]> {
  const head = chain.prefix ? `${chain.prefix}/` : "";
  // files of an earlier destination of the same trail belong to that destination's chain
  return (await deps.deliveries.deliveredFiles(chain.trailArn, chain.region, start, until)).filter(
    (f) => f.bucket === chain.bucket && f.key.startsWith(`${head}AWSLogs/`) && !isInsightFileKey(f.key),
  );
}

interface SignedDigest {
  key: string;
  built: BuiltDigest;
  signature: string;
}

/** The digest of [start, end] over `files`, named, built and signed with the region's active key. */
async function signedDigest(
  deps: DigestDeps,
  chain: DigestChain,
  start: Date,
  end: Date,
  files: DigestLogFile[],
): Promise<SignedDigest> {
  const signingKey = await deps.keys.activeKey(chain.region, deps.clock.now());
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
  return { key, built, signature };
}

/** The chain's bucket and prefix as the put gate asks about them (no KMS key: see `gate`). */
function destinationOf(chain: DigestChain) {
  return {
    id: 0,
    accountId: chain.accountId,
    trailArn: chain.trailArn,
    bucket: chain.bucket,
    ...(chain.prefix ? { prefix: chain.prefix } : {}),
  };
}

/** Puts the gzipped digest with its signature; false when the put failed. */
async function putDigest(deps: DigestDeps, chain: DigestChain, digest: SignedDigest): Promise<boolean> {
  const { key, built, signature } = digest;
  const destination = destinationOf(chain);
  try {
    const refused = await deps.gate?.refusal(destination, key);
    if (refused !== undefined)
      throw new ObjectStoreError(refused, `${refused}: the bucket policy refuses ${key}`);
    await deps.objects.putObject(chain.bucket, key, await gzip(built.bytes), {
      contentType: "application/json",
      contentEncoding: "gzip",
      metadata: { signature, "signature-algorithm": DIGEST_SIGNATURE_ALGORITHM },
    });
  } catch (e) {
    const code = e instanceof ObjectStoreError ? e.code : "InternalError";
    deps.gate?.forget(destination);
    deps.log.warn({ trailArn: chain.trailArn, key, code }, "digest delivery failed; will retry");
    await deps.status?.recordOutcome("digest", chain.trailArn, chain.region, deps.clock.now(), code);
    return false;
  }
  await deps.status?.recordOutcome("digest", chain.trailArn, chain.region, deps.clock.now());
  return true;
}

/** Writes one digest over files delivered in [start, until); false when the put failed. */
async function writeDigest(
  deps: DigestDeps,
  chain: DigestChain,
  start: Date,
  end: Date,
  until: Date,
): Promise<boolean> {
  const files = await digestLogFiles(deps, chain, start, until);
  const digest = await signedDigest(deps, chain, start, end, files);
  if (!(await putDigest(deps, chain, digest))) return false;
  const { key, built, signature } = digest;
  chain.previous = { bucket: chain.bucket, key, signature, sha256: built.sha256Hex };
  deps.log.info({ trailArn: chain.trailArn, key, logFiles: files.length }, "delivered digest file");
  return true;
}

/** Regular digests for every whole period up to `now`. */
async function advance(deps: DigestDeps, chain: DigestChain, now: number): Promise<void> {
  while (chain.periodStart.getTime() + deps.intervalMs <= now) {
    const start = chain.periodStart;
    const end = new Date(start.getTime() + deps.intervalMs);
    if (!(await writeDigest(deps, chain, start, end, end))) return;
    chain.periodStart = end;
    await deps.chains.saveChain(chain);
  }
}

/**
 * The final digest covers [start, now]: its end is the next whole second, so that it names a key
 * of its own even when it follows a regular digest within the same second.
 */
async function close(deps: DigestDeps, chain: DigestChain, now: number): Promise<DigestChain | undefined> {
  const start = chain.periodStart;
  const end = new Date(Math.max(floorSecond(now) + SECOND, start.getTime() + SECOND));
  if (!(await writeDigest(deps, chain, start, end, end))) return undefined;
  const closed = { ...chain, closedAt: end };
  await deps.chains.saveChain(closed);
  return closed;
}

function opening(
  intervalMs: number,
  trail: Trail,
  region: string,
  old: DigestChain | undefined,
  now: number,
): DigestChain {
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

/** Every (trail, region) of a trail that logs with validation on. */
async function wantedChains(deps: DigestDeps): Promise<PassView["wanted"]> {
  const wanted: PassView["wanted"] = new Map();
  for (const trail of await deps.listTrails()) {
    if (!trail.isLogging || !trail.logFileValidationEnabled) continue;
    for (const region of trail.isMultiRegionTrail ? deps.regions : [trail.homeRegion]) {
      wanted.set(chainKey(trail.arn, region), { trail, region });
    }
  }
  return wanted;
}

/**
 * A chain no longer wanted closes a pass after it was first seen so (at once when forced), and
 * only once its lane's log files are all delivered.
 */
async function endChain(
  deps: DigestDeps,
  state: DigestState,
  view: PassView,
  key: string,
  chain: DigestChain,
): Promise<void> {
  if (!view.force && !state.ending.has(key)) {
    state.ending.add(key);
    return;
  }
  if (view.busy.backlog.has(key)) return;
  const closed = await close(deps, chain, view.now);
  if (!closed) return;
  state.ending.delete(key);
  view.known.set(key, closed);
}

/** Advances the open chains still wanted at their destination, and ends the others. */
async function tendChains(deps: DigestDeps, state: DigestState, view: PassView): Promise<void> {
  for (const [key, chain] of view.known) {
    if (chain.closedAt) continue;
    const w = view.wanted.get(key);
    if (w && sameDestination(chain, w.trail)) {
      state.ending.delete(key);
      if (!view.busy.pending.has(key)) await advance(deps, chain, view.now);
    } else {
      await endChain(deps, state, view, key, chain);
    }
  }
}

/** Opens a chain for every wanted (trail, region) without an open one. */
async function openChains(deps: DigestDeps, view: PassView): Promise<void> {
  for (const [key, { trail, region }] of view.wanted) {
    const old = view.known.get(key);
    // a destination change opens the new chain only once the old one is closed
    if (old && !old.closedAt) continue;
    const chain = opening(deps.intervalMs, trail, region, old, view.now);
    await deps.chains.saveChain(chain);
    if (!view.busy.pending.has(key)) await advance(deps, chain, view.now);
  }
}

const chainsByKey = async (deps: DigestDeps) =>
  new Map((await deps.chains.chains()).map((c) => [chainKey(c.trailArn, c.region), c]));

/** The leases of the chains to work (open ones, and wanted ones) that this node could take. */
async function takeChains(deps: DigestDeps, wanted: PassView["wanted"]): Promise<Set<string>> {
  const keys = new Set(wanted.keys());
  for (const [key, chain] of await chainsByKey(deps)) if (!chain.closedAt) keys.add(key);
  const held = new Set<string>();
  for (const key of keys) if (await deps.leases.take(chainLease(key))) held.add(key);
  return held;
}

async function digestPass(deps: DigestDeps, state: DigestState, force: boolean): Promise<void> {
  const now = deps.clock.now().getTime();
  const allWanted = await wantedChains(deps);
  const held = await takeChains(deps, allWanted);
  try {
    // read after the leases are taken: the node that held a chain until now may have advanced it
    const only = <V>(m: Map<string, V>) => new Map([...m].filter(([key]) => held.has(key)));
    const wanted = only(allWanted);
    const known = only(await chainsByKey(deps));
    const busy = await busyLanes(deps.deliveries);
    const view: PassView = { now, force, wanted, known, busy };
    await tendChains(deps, state, view);
    await openChains(deps, view);
  } finally {
    for (const key of held) await deps.leases.give(chainLease(key));
  }
}

/**
 * Writes the signed digest files of every (trail, region) whose trail logs with validation on: one
 * per period, empty periods included, chained by their `previous*` members; a final digest closes
 * the chain once the trail stops logging, drops validation, is deleted or moves its destination.
 */
export function createDigestWorker(opts: DigestOptions) {
  const deps = withDefaults(opts);
  const state: DigestState = { ending: new Set() };
  const passes = forcedPasses(
    (force) => digestPass(deps, state, force),
    deps.tickMs,
    deps.log,
    "digest pass",
  );
  return {
    /** Writes the digests that are due now. */
    runOnce: passes.runOnce,
    /**
     * Also closes ended chains without waiting a pass (tests, shutdown): drain delivery first, so
     * the final digests list the last log files.
     */
    drain: passes.drain,
    start: passes.start,
  };
}

export type DigestWorker = ReturnType<typeof createDigestWorker>;
