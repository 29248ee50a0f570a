import { randomBytes, randomUUID } from "node:crypto";
import { chmodSync, mkdirSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { type Logger, pino } from "pino";
import { StaticCredentialStore } from "./adapters/credentials.ts";
import { openObjectStore, openStores, type StoresDescriptor } from "./adapters/index.ts";
import { WriteLock } from "./adapters/sqlite/write-lock.ts";
import type { Config } from "./config/index.ts";
import { createHttpServer } from "./http/server.ts";
import { createDeliveryWorker, type DeliveryWorker } from "./pipeline/delivery.ts";
import { createDigestWorker, type DigestWorker } from "./pipeline/digest.ts";
import { createRetentionWorker } from "./pipeline/retention.ts";
import type { Clock, Ids, ObjectStore } from "./ports/index.ts";
import { createRecorder } from "./recording/recorder.ts";
import { createRouter, routedTrailRepo } from "./recording/router.ts";
import { buildService, type Service } from "./service/index.ts";
import { ownCallToRecord } from "./service/own-calls.ts";
import { createRateLimit } from "./service/rate-limit.ts";
import { createWireHandler } from "./wire/handler.ts";
import { createIngestHandler } from "./wire/ingest.ts";
import { createIngestRunner } from "./workers/ingest-batch.ts";
import { ingestThreadCount, startIngestPool } from "./workers/ingest-pool.ts";

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
  /** Stops accepting requests, waits for those in flight, then closes the stores. */
  close(): Promise<void>;
}

export const systemClock: Clock = { now: () => new Date() };
export const randomIds: Ids = { uuid: () => randomUUID() };

export interface StartOptions {
  log?: Logger;
  clock?: Clock;
  ids?: Ids;
}

/** The one place that builds adapters, service and server, and shuts them down in order. */
export async function startOpenTrail(config: Config, opts: StartOptions = {}): Promise<OpenTrail> {
  const log = opts.log ?? pino({ level: config.logLevel }, pino.destination(2));
  const clock = opts.clock ?? systemClock;
  const ids = opts.ids ?? randomIds;

  // the database holds the private signing keys: the data directory is the service's alone
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  chmodSync(config.dataDir, 0o700);
  const ingestThreads = ingestThreadCount(config.ingestWorkers);
  const stores: StoresDescriptor = {
    kind: "sqlite",
    path: join(config.dataDir, "opentrail.db"),
    writeLock: ingestThreads > 0 ? WriteLock.shared() : undefined,
    yieldForTurns: true,
  };
  const objects = await openObjectStore(
    config.s3
      ? {
          kind: "s3",
          endpoint: config.s3.endpoint,
          region: config.s3.region,
          credentials: { accessKeyId: config.s3.accessKeyId, secretAccessKey: config.s3.secretAccessKey },
          forcePathStyle: config.s3.forcePathStyle,
        }
      : { kind: "local", root: join(config.dataDir, "buckets") },
  );
  const db = await openStores(stores);

  const deliveries = db.deliveries;
  const router = createRouter(db.trails, deliveries);
  const maxInflatedBytes = config.maxIngestBytes * 8;
  const ingestPool =
    ingestThreads > 0
      ? startIngestPool(ingestThreads, { stores, logLevel: config.logLevel, maxInflatedBytes }, log)
      : undefined;
  const delivery = createDeliveryWorker({
    store: deliveries,
    objects,
    clock,
    log,
    intervalMs: config.deliveryIntervalMs,
    random: (n) => randomBytes(n),
  });
  const digests = createDigestWorker({
    chains: db.digestChains,
    listTrails: () => db.trails.listAll(),
    deliveries,
    keys: db.keys,
    objects,
    clock,
    log,
    regions: config.regions,
    intervalMs: config.digestIntervalMs,
  });
  const service = buildService({
    trails: routedTrailRepo(db.trails, (accountId) => {
      router.invalidate(accountId);
      ingestPool?.invalidate(accountId);
    }),
    objects,
    events: db.events,
    deliveries,
    keys: db.keys,
    regions: config.regions,
    lookupRate: config.lookupEventsRate > 0 ? createRateLimit(config.lookupEventsRate, clock) : undefined,
    flush: delivery.flushTrail,
  });
  const route = router.route;
  const recorder = createRecorder(db.events, route);
  const credentials = new StaticCredentialStore(config.credentials);
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
    ingest,
    maxIngestBytes: config.maxIngestBytes,
    log,
    loopbackHostsOnly: config.development,
    reset: config.development
      ? async () => {
          await db.reset();
          router.invalidateAll();
          ingestPool?.invalidate();
        }
      : undefined,
  });

  try {
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(config.port, config.host, () => {
        server.off("error", reject);
        resolve();
      });
    });
  } catch (e) {
    // the ingest threads would keep the process alive
    await ingestPool?.close();
    await db.close();
    throw e;
  }
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

  const workers = new AbortController();
  const deliveryLoop = delivery.start(workers.signal);
  const digestLoop = digests.start(workers.signal);
  const retention = createRetentionWorker({ events: db.events, clock, log });
  const retentionLoop = retention.start(workers.signal);

  let closing: Promise<void> | undefined;
  return {
    url,
    port,
    service,
    config,
    delivery,
    digests,
    objects,
    close() {
      closing ??= (async () => {
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeIdleConnections();
        });
        workers.abort();
        await Promise.all([deliveryLoop, digestLoop, retentionLoop, ingestPool?.close()]);
        await objects.close();
        await db.close();
      })();
      return closing;
    },
  };
}
