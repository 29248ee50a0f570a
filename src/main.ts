import { randomBytes, randomUUID } from "node:crypto";
import { chmodSync, mkdirSync } from "node:fs";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { type Logger, pino } from "pino";
import { StaticCredentialStore } from "./adapters/credentials.ts";
import {
  type ObjectStoreDescriptor,
  openObjectStore,
  openStores,
  type Stores,
  type StoresDescriptor,
} from "./adapters/index.ts";
import { WriteLock } from "./adapters/sqlite/write-lock.ts";
import { type Config, hasUpstream } from "./config/index.ts";
import { createHttpServer } from "./http/server.ts";
import { createDeliveryWorker, type DeliveryWorker } from "./pipeline/delivery.ts";
import { createDigestWorker, type DigestWorker } from "./pipeline/digest.ts";
import { createRetentionWorker } from "./pipeline/retention.ts";
import type { Clock, Ids, ObjectStore } from "./ports/index.ts";
import type { CallRenderer } from "./proxy/call.ts";
import { createProxy, type ProxyStats, type RecordingProxy } from "./proxy/forward.ts";
import { createCallRenderer } from "./proxy/render.ts";
import { createRecorder } from "./recording/recorder.ts";
import { createRouter, routedTrailRepo } from "./recording/router.ts";
import { createTrailChanges } from "./recording/trail-changes.ts";
import { buildService, type Service } from "./service/index.ts";
import { ownCallToRecord } from "./service/own-calls.ts";
import { createRateLimit } from "./service/rate-limit.ts";
import { createWireHandler } from "./wire/handler.ts";
import { createIngestHandler } from "./wire/ingest.ts";
import { createIngestRunner } from "./workers/ingest-batch.ts";
import { type IngestPool, ingestThreadCount, startIngestPool } from "./workers/ingest-pool.ts";

export interface OpenTrail {
  /** Base URL of the API, e.g. http://127.0.0.1:4566 */
  url: string;
  port: number;
  service: Service;
  config: Config;
  /** The delivery worker: `drain()` writes every pending log file now. */
  delivery: DeliveryWorker;
  /** The digest worker: `drain()` writes the digests due now and closes ended chains (drain delivery first). */
  digests: DigestWorker;
  /** Where log files and digests go: the local buckets or S3. */
  objects: ObjectStore;
  /** The recording proxy's counts (forwarded, recorded, unplaced, …); undefined without an upstream. */
  proxyStats(): ProxyStats | undefined;
  /** Stops accepting requests, waits for those in flight, then closes the stores. */
  close(): Promise<void>;
}

export const systemClock: Clock = { now: () => new Date() };
export const randomIds: Ids = { uuid: () => randomUUID() };

export interface StartOptions {
  log?: Logger;
  clock?: Clock;
  ids?: Ids;
  /** Placement and rendering of proxied calls; by default from the generated AWS models. */
  renderer?: CallRenderer;
}

/** Where the stores and the buckets are, as plain data (ingest threads open the same stores). */
function descriptors(
  config: Config,
  ingestThreads: number,
): { stores: StoresDescriptor; objects: ObjectStoreDescriptor } {
  // the database holds the private signing keys: the data directory is the service's alone
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  chmodSync(config.dataDir, 0o700);
  const stores: StoresDescriptor = {
    kind: "sqlite",
    path: join(config.dataDir, "opentrail.db"),
    writeLock: ingestThreads > 0 ? WriteLock.shared() : undefined,
    yieldForTurns: true,
  };
  const objects: ObjectStoreDescriptor = config.s3
    ? {
        kind: "s3",
        endpoint: config.s3.endpoint,
        region: config.s3.region,
        credentials: { accessKeyId: config.s3.accessKeyId, secretAccessKey: config.s3.secretAccessKey },
        forcePathStyle: config.s3.forcePathStyle,
      }
    : { kind: "local", root: join(config.dataDir, "buckets") };
  return { stores, objects };
}

interface Runtime {
  config: Config;
  log: Logger;
  clock: Clock;
  ids: Ids;
  renderer?: CallRenderer;
}

/** The background workers of the pipeline, built but not started. */
function buildPipeline(rt: Runtime, db: Stores, objects: ObjectStore) {
  const { config, log, clock } = rt;
  return {
    delivery: createDeliveryWorker({
      store: db.deliveries,
      objects,
      clock,
      log,
      intervalMs: config.deliveryIntervalMs,
      random: (n) => randomBytes(n),
    }),
    digests: createDigestWorker({
      chains: db.digestChains,
      listTrails: () => db.trails.listAll(),
      deliveries: db.deliveries,
      keys: db.keys,
      objects,
      clock,
      log,
      regions: config.regions,
      intervalMs: config.digestIntervalMs,
    }),
    retention: createRetentionWorker({ events: db.events, clock, log }),
  };
}

/** The HTTP server over the service: the API, recording every call, ingest, and the development reset. */
function buildServer(
  rt: Runtime,
  db: Stores,
  service: Service,
  route: ReturnType<typeof createRouter>["route"],
  ingestPool: IngestPool | undefined,
  reset: () => Promise<void>,
): { server: Server; proxy: RecordingProxy | undefined } {
  const { config, log, clock, ids } = rt;
  const recorder = createRecorder(db.events, route);
  const credentials = new StaticCredentialStore(config.credentials);
  const proxy = buildProxy(rt, recorder, credentials);
  const maxInflatedBytes = config.maxIngestBytes * 8;
  const wire = createWireHandler({
    service,
    credentials,
    regions: config.regions,
    clock,
    ids,
    log,
    trustedProxies: new Set(config.trustedProxies),
    onCall: async (call) => {
      await recorder.record(ownCallToRecord(call));
    },
  });
  const ingest = createIngestHandler({
    credentials,
    regions: config.regions,
    clock,
    ids,
    log,
    runner: ingestPool
      ? (batch) => ingestPool.process(batch)
      : createIngestRunner({ events: db.events, route, ids, log, maxInflatedBytes }),
  });
  const server = createHttpServer({
    wire,
    ...(proxy ? { proxy: proxy.handle } : {}),
    ingest,
    maxIngestBytes: config.maxIngestBytes,
    log,
    loopbackHostsOnly: config.development,
    reset: config.development ? reset : undefined,
  });
  return { server, proxy };
}

/** The recording proxy, when some upstream is configured. */
function buildProxy(
  rt: Runtime,
  recorder: ReturnType<typeof createRecorder>,
  credentials: StaticCredentialStore,
): RecordingProxy | undefined {
  const { config, log, clock, ids } = rt;
  if (!hasUpstream(config.upstreams)) return undefined;
  return createProxy({
    upstreams: config.upstreams,
    ...(config.upstreamCredentials ? { upstreamKey: config.upstreamCredentials } : {}),
    // the model table is read only when something is proxied
    renderer: rt.renderer ?? createCallRenderer(),
    recorder,
    credentials,
    defaultAccountId: config.credentials[0]!.accountId,
    defaultRegion: config.regions[0]!,
    clock,
    ids,
    log: log.child({ component: "proxy" }),
    trustedProxies: new Set(config.trustedProxies),
  });
}

/** Listens where the configuration says; the URL it answers on. */
async function listen(server: Server, config: Config, log: Logger): Promise<{ url: string; port: number }> {
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(config.port, config.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const host = config.host.includes(":") ? `[${config.host}]` : config.host;
  const url = `http://${host}:${port}`;
  if (config.development) {
    log.warn(
      { accessKeyId: "test", accountId: config.credentials[0]?.accountId },
      "development mode: no credentials configured, accepting access key 'test' with secret 'test'; POST /_opentrail/reset is enabled",
    );
  }
  log.info(
    { url, dataDir: config.dataDir, objectStore: config.s3 ? config.s3.endpoint : "local" },
    "listening",
  );
  return { url, port };
}

/** The one place that builds adapters, service and server, and shuts them down in reverse. */
export async function startOpenTrail(config: Config, opts: StartOptions = {}): Promise<OpenTrail> {
  const log = opts.log ?? pino({ level: config.logLevel }, pino.destination(2));
  const rt: Runtime = {
    config,
    log,
    clock: opts.clock ?? systemClock,
    ids: opts.ids ?? randomIds,
    ...(opts.renderer ? { renderer: opts.renderer } : {}),
  };

  // open
  const ingestThreads = ingestThreadCount(config.ingestWorkers);
  const where = descriptors(config, ingestThreads);
  const objects = await openObjectStore(where.objects);
  const db = await openStores(where.stores);

  // build
  const router = createRouter(db.trails, db.deliveries);
  const trailChanges = createTrailChanges();
  trailChanges.subscribe(router.invalidate);
  const ingestPool =
    ingestThreads > 0
      ? startIngestPool(
          ingestThreads,
          { stores: where.stores, logLevel: config.logLevel, maxInflatedBytes: config.maxIngestBytes * 8 },
          log,
        )
      : undefined;
  if (ingestPool) trailChanges.subscribe((accountId) => ingestPool.invalidate(accountId));
  const pipeline = buildPipeline(rt, db, objects);
  const service = buildService({
    trails: routedTrailRepo(db.trails, trailChanges.changed),
    objects,
    events: db.events,
    deliveries: db.deliveries,
    keys: db.keys,
    regions: config.regions,
    lookupRate: config.lookupEventsRate > 0 ? createRateLimit(config.lookupEventsRate, rt.clock) : undefined,
    flush: pipeline.delivery.flushTrail,
  });
  const developmentReset = async () => {
    await db.reset();
    trailChanges.changed();
  };
  const { server, proxy } = buildServer(rt, db, service, router.route, ingestPool, developmentReset);

  // listen
  let address: { url: string; port: number };
  try {
    address = await listen(server, config, log);
  } catch (e) {
    // the ingest threads would keep the process alive
    proxy?.close();
    await ingestPool?.close();
    await db.close();
    throw e;
  }

  // start
  const workers = new AbortController();
  const loops = [pipeline.delivery, pipeline.digests, pipeline.retention].map((w) => w.start(workers.signal));

  // close in reverse
  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      });
      proxy?.close();
      workers.abort();
      await Promise.all([...loops, ingestPool?.close()]);
      await objects.close();
      await db.close();
    })();
    return closing;
  };
  return {
    ...address,
    service,
    config,
    delivery: pipeline.delivery,
    digests: pipeline.digests,
    objects,
    proxyStats: () => proxy?.stats(),
    close,
  };
}
