import { randomUUID } from "node:crypto";
import { parentPort, workerData } from "node:worker_threads";
import { pino } from "pino";
import { openSqlite } from "../adapters/sqlite/index.ts";
import { createRouter } from "../recording/router.ts";
import { ingestRecords } from "../service/ingest.ts";
import { type BatchDeps, processIngestBatch } from "../wire/ingest.ts";
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
// Appends touch the newest pages: a small cache does; the request thread keeps the large one.
const db = openSqlite(data.dbPath, { checkpointer: false, cacheMiB: 16, writeLock: data.writeLock });
const router = createRouter(db.trails, db.deliveries);
const deps: BatchDeps = {
  ids: { uuid: () => randomUUID() },
  log,
  maxInflatedBytes: data.maxInflatedBytes,
  ingest: (ctx, records, sentTexts) => ingestRecords(db.events, ctx, records, router.route, sentTexts),
};

const send = (message: FromThread) => port.postMessage(message);

port.on("message", (message: ToThread) => {
  switch (message.type) {
    case "batch":
      processIngestBatch(message.batch, deps).then(
        (response) => send({ type: "done", id: message.id, response }),
        // processIngestBatch answers every failure itself; this is a last resort
        (err: unknown) => send({ type: "failed", id: message.id, error: String(err) }),
      );
      break;
    case "invalidate":
      if (message.accountId === undefined) router.invalidateAll();
      else router.invalidate(message.accountId);
      break;
    case "close":
      db.close();
      port.close();
      break;
  }
});
send({ type: "ready" });
