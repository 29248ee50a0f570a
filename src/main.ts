import { randomBytes, randomUUID, timingSafeEqual } from "node:crypto";
import { chmodSync, mkdirSync } from "node:fs";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { hostname } from "node:os";
import { join } from "node:path";
import { type Logger, pino } from "pino";
import type { AwsEndpoint } from "./adapters/aws/errors.ts";
import { createEventBus } from "./adapters/aws/events.ts";
import { createRoles } from "./adapters/aws/iam.ts";
import { createKeyService } from "./adapters/aws/kms.ts";
import { createCloudWatchLogs } from "./adapters/aws/logs.ts";
import { createPolicyEvaluator } from "./adapters/aws/policy.ts";
import { createSnsNotifications } from "./adapters/aws/sns.ts";
import { DevelopmentCredentialStore, StaticCredentialStore } from "./adapters/credentials.ts";
import {
  bucketHostOf,
  type ObjectStoreDescriptor,
  openObjectStore,
  openStores,
  type Stores,
  type StoresDescriptor,
} from "./adapters/index.ts";
import { lockDataDir } from "./adapters/localfs/data-dir-lock.ts";
import { WriteLock } from "./adapters/sqlite/write-lock.ts";
import type { CloudTrailApi } from "./api/operations.ts";
import type { FinishedCall } from "./api/service.ts";
import { inProcessClient } from "./client/in-process.ts";
import { type Config, hasUpstream, serviceEndpoint } from "./config/index.ts";
import { createConsole } from "./console/handler.ts";
import { trailDestination } from "./domain/trail.ts";
import { createHttpServer } from "./http/server.ts";
import { createMetrics, type Metrics } from "./metrics.ts";
import { cloudWatchOutput } from "./pipeline/cloudwatch.ts";
import { createDeliveryWorker, type DeliveryWorker } from "./pipeline/delivery.ts";
import { deliveryGate } from "./pipeline/delivery-policy.ts";
import { createDigestWorker, type DigestWorker } from "./pipeline/digest.ts";
import { eventBridgeOutput } from "./pipeline/eventbridge.ts";
import { createFileOutputWorker, type FileOutput, type FileOutputWorker } from "./pipeline/file-outputs.ts";
import { createInsightsWorker, type InsightsWorker } from "./pipeline/insights.ts";
import type { LeaseOptions } from "./pipeline/leases.ts";
import { snsOutput } from "./pipeline/notify.ts";
import { createRetentionWorker } from "./pipeline/retention.ts";
import type {
  Clock,
  CloudWatchLogs,
  CredentialStore,
  EventBus,
  Ids,
  KeyService,
  Notifications,
  ObjectStore,
} from "./ports/index.ts";
import type { CallRenderer } from "./proxy/call.ts";
import type { ProxyStats, RecordingProxy } from "./proxy/forward.ts";
import { createRecorder } from "./recording/recorder.ts";
import { createRouter, routedTrailRepo } from "./recording/router.ts";
import { createTrailChanges } from "./recording/trail-changes.ts";
import { buildService, type Service } from "./service/index.ts";
import { ownCallToRecord } from "./service/own-calls.ts";
import { createRateLimit } from "./service/rate-limit.ts";
import { type TlsMaterial, tlsMaterial } from "./tls.ts";
import { createWireHandler } from "./wire/handler.ts";
import { createIngestHandler, type IngestRunner } from "./wire/ingest.ts";
import { createIngestMemory, type IngestMemory } from "./wire/ingest-memory.ts";
import { createS3Handler } from "./wire/s3.ts";
import { createIngestRunner } from "./workers/ingest-batch.ts";
import { type IngestPool, ingestThreadCount, startIngestPool } from "./workers/ingest-pool.ts";

export interface OpenTrail {
  /** Base URL of the API, e.g. http://127.0.0.1:4566 */
  url: string;
  port: number;
  service: Service;
  /**
   * The API in process, no HTTP, recorded like calls over HTTP: as the configured access key
   * `accessKeyId` (default: the first configured, `test` in development mode), in `region`
   * (default: the first served region).
   */
  client(opts?: { accessKeyId?: string; region?: string }): CloudTrailApi;
  config: Config;
  /** The delivery worker: `drain()` writes every pending log file now. */
  delivery: DeliveryWorker;
  /** The SNS notification worker: `drain()` publishes for every delivered file now (drain delivery first). */
  notify: FileOutputWorker | undefined;
  /** The CloudWatch Logs worker: `drain()` sends every delivered file's records now (drain delivery first). */
  cloudWatch: FileOutputWorker | undefined;
  /** The EventBridge worker (with `eventBridge: "on"`): `drain()` sends every delivered record now. */
  eventBridge: FileOutputWorker | undefined;
  /** The digest worker: `drain()` writes the digests due now and closes ended chains (drain delivery first). */
  digests: DigestWorker;
  /** The Insights worker: `drain()` evaluates every minute closed by now (drain delivery after it). */
  insights: InsightsWorker;
  /** Where log files and digests go: the local buckets or S3. */
  objects: ObjectStore;
  /** Bytes of ingest bodies being decoded now, and the most ever at once (the ingest memory bound). */
  ingestMemory(): { held: number; peak: number };
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
  const stores: StoresDescriptor = config.database
    ? { kind: "postgres", url: config.database }
    : {
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

/**
 * The one lookup of where another AWS service is (the upstreams table, s3 from --s3-endpoint)
 * and the keys to sign with; undefined when the service has no endpoint configured.
 */
function awsEndpoint(config: Config, service: string): AwsEndpoint | undefined {
  const url = serviceEndpoint(config, service);
  if (url === undefined) return undefined;
  const credentials = config.upstreamCredentials ??
    (config.s3
      ? { accessKeyId: config.s3.accessKeyId, secretAccessKey: config.s3.secretAccessKey }
      : undefined) ?? {
      accessKeyId: "test",
      secretAccessKey: "test",
    };
  return { url, credentials };
}

interface Runtime {
  config: Config;
  log: Logger;
  clock: Clock;
  ids: Ids;
  metrics: Metrics;
  renderer?: CallRenderer;
}

/** The background workers of the pipeline, built but not started. */
function buildPipeline(
  rt: Runtime,
  db: Stores,
  objects: ObjectStore,
  aws: { sns: Notifications; logs: CloudWatchLogs; events: EventBus; kms: KeyService },
) {
  const { config, log, clock } = rt;
  const outbox = db.outputs;
  // as AWS applies the bucket policy and the key to CloudTrail's puts, which an S3-compatible server does not
  const policies = config.policyChecks === "aws" ? createPolicyEvaluator() : undefined;
  const mayPut = deliveryGate({ objects, keys: aws.kms, clock, ...(policies ? { policies } : {}) });
  // this process among the nodes sharing the stores; a restart is a new node (its old leases expire)
  const lease = { leases: db.leases, holder: `${hostname()}/${process.pid}/${randomUUID().slice(0, 8)}` };
  const outputWorker = (output: FileOutput, onFailure?: () => void) =>
    createFileOutputWorker({
      outbox,
      output,
      listTrails: () => db.trails.listAll(),
      clock,
      log,
      lease,
      ...(onFailure ? { onFailure } : {}),
    });
  return {
    notify: outputWorker(
      snsOutput(aws.sns, policies ? { policies, clock, keys: aws.kms } : undefined),
      rt.metrics.notificationFailed,
    ),
    cloudWatch: outputWorker(cloudWatchOutput(aws.logs, objects, clock)),
    eventBridge: outputWorker(eventBridgeOutput(aws.events, objects, config.eventBridge === "on")),
    delivery: createDeliveryWorker({
      store: db.deliveries,
      objects,
      clock,
      log,
      intervalMs: config.deliveryIntervalMs,
      random: (n) => randomBytes(n),
      observe: { delivered: rt.metrics.delivered, failed: rt.metrics.deliveryFailed },
      lease,
      ...(mayPut ? { mayPut } : {}),
      currentDestination: async (d) => {
        // the same trail, not a later one of the same name: its records are not the later one's
        const trail = (await db.trails.listAll()).find(
          (t) =>
            t.arn === d.trailArn &&
            (!d.trailCreatedAt || t.createdAt.getTime() === d.trailCreatedAt.getTime()),
        );
        // of the same kind: Insights records stay out of the trail's CloudTrail files
        return trail && db.deliveries.destinationFor({ ...trailDestination(trail), kind: d.kind });
      },
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
      lease,
      status: outbox,
      ...(mayPut ? { gate: mayPut } : {}),
    }),
    retention: createRetentionWorker({ events: db.events, clock, log, lease }),
    insights: insightsWorker(rt, db, lease),
  };
}

/** The Insights worker; among nodes sharing the stores, the one holding its lease works it. */
function insightsWorker(rt: Runtime, db: Stores, lease: LeaseOptions): InsightsWorker {
  const { config, clock, log } = rt;
  return createInsightsWorker({
    store: db.insights,
    events: db.events,
    deliveries: db.deliveries,
    listTrails: () => db.trails.listAll(),
    clock,
    log,
    regions: config.regions,
    settings: config.insights,
    lease,
  });
}

/**
 * The largest inflated gzip body: 8 × the body limit (a log file compresses about tenfold), and
 * never more than the memory bound, which one batch alone must fit.
 */
function maxInflatedBytesOf(config: Config): number {
  return Math.min(config.maxIngestBytes * 8, config.ingestMemoryBytes);
}

/** The HTTP server over the service: the API, recording every call, ingest, and the development reset. */
/** What the HTTP server is built over, besides the stores. */
interface ServerParts {
  service: Service;
  route: ReturnType<typeof createRouter>["route"];
  credentials: CredentialStore;
  /** Records one of the API's calls (HTTP and in process alike). */
  recordCall: (call: FinishedCall) => Promise<void>;
  ingestPool: IngestPool | undefined;
  ingestMemory: IngestMemory;
  reset: () => Promise<void>;
  tls: TlsMaterial | undefined;
  objects: ObjectStore;
  proxy: RecordingProxy | undefined;
}

function buildServer(rt: Runtime, db: Stores, parts: ServerParts): Server {
  const { config, log, clock, ids, metrics } = rt;
  const { service, route, credentials, ingestPool, reset, tls } = parts;
  const maxInflatedBytes = maxInflatedBytesOf(config);
  const { proxy } = parts;
  const wire = createWireHandler({
    service,
    credentials,
    regions: config.regions,
    clock,
    ids,
    log,
    trustedProxies: new Set(config.trustedProxies),
    onCall: parts.recordCall,
  });
  const runner: IngestRunner = ingestPool
    ? (batch) => ingestPool.process(batch)
    : createIngestRunner({
        events: db.events,
        route,
        ids,
        log,
        maxInflatedBytes,
        memory: parts.ingestMemory,
      });
  const ingest = createIngestHandler({
    credentials,
    regions: config.regions,
    clock,
    ids,
    log,
    runner: async (batch) => {
      const outcome = await runner(batch);
      metrics.ingested(outcome);
      return outcome;
    },
    memory: parts.ingestMemory,
    maxInflatedBytes,
  });
  const consoleHandler = createConsole({
    regions: config.regions,
    developmentPrincipal: config.development
      ? credentials.lookup(config.credentials[0]?.accessKeyId ?? "")?.principal
      : undefined,
    signIn(accessKeyId, secretAccessKey) {
      const credential = credentials.lookup(accessKeyId);
      // a session key needs its token, which a sign-in form does not take; a development
      // account key takes any secret, which a form must not
      if (credential === undefined || credential.sessionToken !== undefined || credential.anySecret)
        return undefined;
      const a = Buffer.from(credential.secretAccessKey);
      const b = Buffer.from(secretAccessKey);
      return a.length === b.length && timingSafeEqual(a, b) ? credential.principal : undefined;
    },
    api: (principal, region, caller) =>
      inProcessClient(service, { principal, region, clock, ids, caller, record: parts.recordCall }),
    async deliveredFiles(trailArn, region, since) {
      const files = await db.deliveries.deliveredFiles(trailArn, region, since, clock.now());
      return files
        .map((f) => ({ bucket: f.bucket, key: f.key, deliveredAt: f.deliveredAt }))
        .sort((x, y) => y.deliveredAt.getTime() - x.deliveredAt.getTime());
    },
    now: () => clock.now(),
  });
  // the S3 read API of the local buckets; with buckets on an S3 endpoint, S3 is that endpoint
  const buckets = bucketHostOf(parts.objects);
  const s3 = buckets && createS3Handler({ buckets, credentials, regions: config.regions, clock, ids, log });
  const server = createHttpServer({
    wire,
    ...(proxy ? { proxy: proxy.handle } : {}),
    ingest,
    console: consoleHandler,
    ...(s3 ? { s3 } : {}),
    maxIngestBytes: config.maxIngestBytes,
    log,
    loopbackHostsOnly: config.development,
    reset: config.development ? reset : undefined,
    metrics: metrics.scrape,
    onAnswered: metrics.answered,
    ...(tls ? { tls: { cert: tls.cert, key: tls.key } } : {}),
  });
  return server;
}

/** The recording proxy, when some upstream is configured. */
async function buildProxy(
  rt: Runtime,
  recorder: ReturnType<typeof createRecorder>,
  credentials: CredentialStore,
): Promise<RecordingProxy | undefined> {
  const { config, log, clock, ids } = rt;
  if (!hasUpstream(config.upstreams)) return undefined;
  // imported only with an upstream: the proxy and its renderer cost about 150 ms of start-up
  const [{ createProxy }, { createCallRenderer }] = await Promise.all([
    import("./proxy/forward.ts"),
    import("./proxy/render.ts"),
  ]);
  return createProxy({
    upstreams: config.upstreams,
    upstreamTimeoutMs: config.upstreamTimeoutMs,
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
async function listen(
  server: Server,
  config: Config,
  log: Logger,
  tls: TlsMaterial | undefined,
): Promise<{ url: string; port: number }> {
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(config.port, config.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const host = config.host.includes(":") ? `[${config.host}]` : config.host;
  const url = `${tls ? "https" : "http"}://${host}:${port}`;
  if (tls && config.tls?.kind === "self-signed") {
    log.info(
      { certificate: tls.certFile },
      "HTTPS with a self-signed certificate: trust it with AWS_CA_BUNDLE or --ca-bundle set to this file",
    );
  }
  if (config.development) {
    log.warn(
      { accessKeyId: "test", accountId: config.credentials[0]?.accountId },
      "development mode: no credentials configured, accepting access key 'test' with secret 'test' and, as the root of that account, any 12-digit access key id with any secret",
    );
    // its own line, so that it is seen: anyone who can reach the port can wipe the database
    log.warn(
      { reset: `${url}/_opentrail/reset`, dataDir: config.dataDir },
      "development mode: POST /_opentrail/reset empties the database (every trail, record and signing key) with no authentication; configure credentials to turn it off",
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
  const clock = opts.clock ?? systemClock;

  // open: the data directory is this server's alone
  const lock = lockDataDir(config.dataDir);
  const ingestThreads = ingestThreadCount(config.ingestWorkers);
  const where = descriptors(config, ingestThreads);
  // before any store is open: a missing certificate file stops the start with nothing to close
  const tls = config.tls
    ? await tlsMaterial(config.tls, config.dataDir, clock).catch((e: unknown) => {
        lock.release();
        throw e;
      })
    : undefined;
  const objects = await openObjectStore(where.objects).catch((e: unknown) => {
    lock.release();
    throw e;
  });
  const db: Stores = await openStores(where.stores).catch(async (e: unknown) => {
    await objects.close();
    lock.release();
    throw e;
  });
  const rt: Runtime = {
    config,
    log,
    clock,
    ids: opts.ids ?? randomIds,
    metrics: createMetrics({ deliveries: db.deliveries, clock }),
    ...(opts.renderer ? { renderer: opts.renderer } : {}),
  };

  // build
  const router = createRouter(db.trails, db.deliveries);
  const trailChanges = createTrailChanges(db.trailFeed);
  await db.trailFeed?.listen(trailChanges.heard);
  trailChanges.subscribe(router.invalidate);
  const ingestMemory = createIngestMemory(config.ingestMemoryBytes, config.ingestMemoryWaitMs);
  const ingestPool =
    ingestThreads > 0
      ? startIngestPool(
          ingestThreads,
          {
            stores: where.stores,
            logLevel: config.logLevel,
            maxInflatedBytes: maxInflatedBytesOf(config),
            memory: ingestMemory.shared,
          },
          log,
        )
      : undefined;
  if (ingestPool) trailChanges.subscribe((accountId) => ingestPool.invalidate(accountId));
  const sns = createSnsNotifications(awsEndpoint(config, "sns"));
  const logs = createCloudWatchLogs(awsEndpoint(config, "logs"));
  const events = createEventBus(awsEndpoint(config, "events"));
  const kmsKeys = createKeyService(awsEndpoint(config, "kms"), config.regions[0] ?? "us-east-1");
  const roles = createRoles(awsEndpoint(config, "iam"));
  const pipeline = buildPipeline(rt, db, objects, { sns, logs, events, kms: kmsKeys });
  const service = buildService({
    trails: routedTrailRepo(db.trails, trailChanges),
    objects,
    events: db.events,
    deliveries: db.deliveries,
    keys: db.keys,
    insightCounts: db.insights,
    regions: config.regions,
    lookupRate: config.lookupEventsRate > 0 ? createRateLimit(config.lookupEventsRate, clock) : undefined,
    flush: pipeline.delivery.flushTrail,
    policyChecks: config.policyChecks,
    policies: createPolicyEvaluator(),
    notifications: sns,
    logs,
    roles,
    kmsKeys,
    outputs: db.outputs,
  });
  const developmentReset = async () => {
    await db.reset();
    pipeline.delivery.forget();
    trailChanges.changed();
  };
  const recorder = createRecorder(db.events, router.route);
  const recordCall = async (call: FinishedCall) => {
    await recorder.record(ownCallToRecord(call));
    rt.metrics.callRecorded();
  };
  const configured = new StaticCredentialStore(config.credentials);
  const credentials = config.development ? new DevelopmentCredentialStore(configured) : configured;
  const proxy = await buildProxy(rt, recorder, credentials);
  const server = buildServer(rt, db, {
    proxy,
    service,
    route: router.route,
    credentials,
    recordCall,
    ingestPool,
    ingestMemory,
    reset: developmentReset,
    tls,
    objects,
  });

  // listen
  let address: { url: string; port: number };
  try {
    address = await listen(server, config, log, tls);
  } catch (e) {
    // the ingest threads would keep the process alive
    proxy?.close();
    await ingestPool?.close();
    await objects.close();
    await db.close();
    lock.release();
    throw e;
  }

  // start
  const workers = new AbortController();
  const loops = [
    pipeline.delivery,
    pipeline.notify,
    pipeline.cloudWatch,
    pipeline.eventBridge,
    pipeline.digests,
    pipeline.retention,
    pipeline.insights,
  ].flatMap((w) => (w === undefined ? [] : [w.start(workers.signal)]));

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
      sns.close();
      logs.close();
      events.close();
      kmsKeys.close();
      roles.close();
      await db.close();
      lock.release();
    })();
    return closing;
  };
  return {
    ...address,
    service,
    client: (opts = {}) => {
      const accessKeyId = opts.accessKeyId ?? config.credentials[0]!.accessKeyId;
      const credential = credentials.lookup(accessKeyId);
      if (!credential) throw new Error(`no configured credential has the access key id ${accessKeyId}`);
      return inProcessClient(service, {
        principal: credential.principal,
        region: opts.region ?? config.regions[0]!,
        clock: rt.clock,
        ids: rt.ids,
        record: recordCall,
      });
    },
    config,
    delivery: pipeline.delivery,
    notify: pipeline.notify,
    cloudWatch: pipeline.cloudWatch,
    eventBridge: pipeline.eventBridge,
    digests: pipeline.digests,
    insights: pipeline.insights,
    objects,
    ingestMemory: () => ingestMemory.usage(),
    proxyStats: () => proxy?.stats(),
    close,
  };
}
