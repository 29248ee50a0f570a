import { randomUUID } from "node:crypto";
import { parentPort, workerData } from "node:worker_threads";
import { pino } from "pino";
import { openStores } from "../adapters/index.ts";
import { createRouter } from "../recording/router.ts";
import { ingestMemoryView } from "../wire/ingest-memory.ts";
import { createIngestRunner } from "./ingest-batch.ts";
import type { FromThread, IngestThreadData, ToThread } from "./ingest-messages.ts";

/*
 * An ingest thread: the second composition root besides main.ts, for the part of POST /ingest
 * that costs (inflate, parse, check, route, store). It has its own connection to the database
 * main.ts opened and migrated; SQLite lets one connection write at a time, and the event store's
 * append numbers keep every connection's duplicate filter current.
 */

const port = parentPort;
if (port === null) throw new Error("ingest-thread.ts runs as a worker thread");
const data = workerData as IngestThreadData;
const log = pino({ level: data.logLevel }, pino.destination(2)).child({ thread: "ingest" });
// SQLite: appends touch the newest pages, a small cache does; the request thread keeps the large
// one and checkpoints. A worker thread may block while it waits for its write turn. PostgreSQL:
// the thread has a pool of its own, of the same descriptor.
const stores = await openStores(
  data.stores.kind === "sqlite"
    ? { ...data.stores, checkpointer: false, cacheMiB: 16, yieldForTurns: false }
    : data.stores,
);
const router = createRouter(stores.trails, stores.deliveries);
const run = createIngestRunner({
  events: stores.events,
  route: router.route,
  ids: { uuid: () => randomUUID() },
  log,
  maxInflatedBytes: data.maxInflatedBytes,
  memory: ingestMemoryView(data.memory),
});

const send = (message: FromThread) => port.postMessage(message);

port.on("message", (message: ToThread) => {
  switch (message.type) {
    case "batch":
      run(message.batch).then(
        (outcome) => send({ type: "done", id: message.id, outcome }),
        // the runner answers every failure itself; this is a last resort
        (err: unknown) => send({ type: "failed", id: message.id, error: String(err) }),
      );
      break;
    case "invalidate":
      router.invalidate(message.accountId);
      break;
    case "close":
      stores.close().finally(() => port.close());
      break;
  }
});
send({ type: "ready" });
