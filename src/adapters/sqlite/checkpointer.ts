import { createRequire } from "node:module";
import { Worker } from "node:worker_threads";

/**
 * The worker's source. It is evaluated from a string, and written with dynamic imports only, so
 * that it runs the same from the TypeScript sources (tests) and from the build, as CommonJS or ESM.
 */
const SOURCE = `
(async () => {
  const { parentPort, workerData } = await import("node:worker_threads");
  const { createRequire } = await import("node:module");
  const Database = createRequire(workerData.driver)(workerData.driver);
  const db = new Database(workerData.path, { fileMustExist: true });
  db.pragma("busy_timeout = 1000");
  const timer = setInterval(() => {
    try {
      db.pragma("wal_checkpoint(PASSIVE)");
    } catch {
      // Busy or failing: the writer's own automatic checkpoint still bounds the WAL.
    }
  }, workerData.intervalMs);
  parentPort.once("message", () => {
    clearInterval(timer);
    db.close();
    parentPort.close();
  });
})();
`;

export interface Checkpointer {
  /** Asks the worker to close its connection and end; returns at once. */
  stop(): void;
}

/**
 * Copies the WAL into the database file from a worker thread, on its own connection, every
 * `intervalMs`. A checkpoint writes and fsyncs tens of megabytes; done by the connection that
 * commits, it stalls appends and lookups for that long (on two cores, 15 to 20% of the ingest rate
 * at 600,000 events on a quiet machine). PASSIVE checkpoints never block the writer or readers.
 */
export function startCheckpointer(path: string, intervalMs: number): Checkpointer {
  const driver = createRequire(import.meta.url).resolve("better-sqlite3");
  const worker = new Worker(SOURCE, { eval: true, execArgv: [], workerData: { path, driver, intervalMs } });
  worker.unref();
  // Nothing to do about a failed worker: the writer's automatic checkpoint takes over.
  worker.on("error", () => {});
  return {
    stop() {
      worker.postMessage("stop");
    },
  };
}
