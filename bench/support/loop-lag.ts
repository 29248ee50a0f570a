import { monitorEventLoopDelay } from "node:perf_hooks";
import { isMainThread } from "node:worker_threads";

/**
 * Preloaded into a server child (`node --import <this file, built>`): once a second, how late the
 * event loop ran, as one line on stderr: `opentrail-bench-loop-lag {"p50Ms":…,"p99Ms":…,"maxMs":…}`.
 * Under load every asynchronous step of the server (each file system call of a delivery, each
 * trip of compression to the thread pool) waits about this long.
 */

// node runs this file in worker threads too; their loops are not the one that serves requests
if (isMainThread) {
  const histogram = monitorEventLoopDelay({ resolution: 10 });
  histogram.enable();
  const ms = (ns: number) => Math.round(ns / 1e6);
  setInterval(() => {
    const lag = {
      p50Ms: ms(histogram.percentile(50)),
      p99Ms: ms(histogram.percentile(99)),
      maxMs: ms(histogram.max),
    };
    process.stderr.write(`opentrail-bench-loop-lag ${JSON.stringify(lag)}\n`);
    histogram.reset();
  }, 1000).unref();
}
