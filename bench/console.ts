/**
 * The web console over a large event history, in a real browser: the built server (child
 * process, SQLite in a data directory) is filled through `POST /ingest` with N management events
 * of the last 80 days, started again (a cold start, as after a restart), and Debian's Chromium
 * (playwright-core) opens event history and pages forward. For each page it prints how long the
 * page's LookupEvents answer took (from the browser's side) and how long the page took to draw
 * the 50 rows after the answer (the table's `data-draw-ms`). Prints figures only.
 *
 *   npm run bench:console -- [--events 200000] [--pages 10] [--dir D] [--keep] [--skip-fill]
 *
 * --dir keeps the data directory for a later run with --skip-fill (filling 5 million events
 * takes minutes and about 15 GB).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { launchChromium } from "../test/support/browser.ts";
import { ingestPoster, numberFlag, postAll } from "./support/ingest-post.ts";
import { recordSource } from "./support/records.ts";
import { startServerProcess } from "./support/server-process.ts";

const ACCOUNT = "123456789012";
const REGION = "us-east-1";
const BATCH = 500;
const DAY = 86_400_000;

const { values: flags } = parseArgs({
  options: {
    events: { type: "string", default: "200000" },
    pages: { type: "string", default: "10" },
    dir: { type: "string" },
    keep: { type: "boolean", default: false },
    "skip-fill": { type: "boolean", default: false },
  },
});
const events = Math.floor(numberFlag("events", flags.events));
const pages = Math.max(1, Math.floor(numberFlag("pages", flags.pages)));

/** The little of the page's document the wait reads. */
interface PageDocument {
  getElementById(id: string): { hasAttribute(name: string): boolean; textContent: string | null } | null;
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/** N records of the last 80 days, oldest first, half of them write calls, 6 batches in flight. */
async function fill(url: string): Promise<void> {
  const poster = ingestPoster(url, { region: REGION, connections: 6 });
  const source = recordSource({ seed: 7, accountId: ACCOUNT, region: REGION });
  const start = Date.now() - 80 * DAY;
  const step = (80 * DAY) / Math.max(1, events);
  let made = 0;
  const began = performance.now();
  await postAll(6, () => {
    if (made >= events) return undefined;
    const records = [];
    for (let i = 0; i < BATCH && made < events; i++, made++) {
      records.push(source.next(new Date(start + made * step)));
    }
    return { poster, body: Buffer.from(JSON.stringify({ Records: records })) };
  });
  poster.close();
  const seconds = (performance.now() - began) / 1000;
  console.log(
    `filled ${events} events in ${seconds.toFixed(0)} s (${Math.round(events / seconds)} records/s)`,
  );
}

async function main(): Promise<void> {
  const dataDir = flags.dir ?? mkdtempSync(join(tmpdir(), "opentrail-bench-console-"));
  try {
    if (!flags["skip-fill"]) {
      const filling = await startServerProcess({ dataDir, startTimeoutMs: 60_000 });
      try {
        await fill(filling.url);
      } finally {
        await filling.stop("SIGTERM");
      }
    }
    const started = performance.now();
    const server = await startServerProcess({ dataDir, startTimeoutMs: 120_000 });
    console.log(
      `console bench: ${events} events, server started again in ${(performance.now() - started).toFixed(0)} ms, ` +
        `load average ${loadavg()[0]!.toFixed(2)}`,
    );
    const browser = await launchChromium();
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      const answers: number[] = [];
      const draws: number[] = [];
      /** Waits for the page's next events answer and the table drawn from it. */
      const nextPage = async (act: () => Promise<unknown>) => {
        const sent = performance.now();
        const [response] = await Promise.all([
          page.waitForResponse((r) => new URL(r.url()).pathname.endsWith("/events"), { timeout: 120_000 }),
          act(),
        ]);
        answers.push(performance.now() - sent);
        if (response.status() !== 200) throw new Error(`events answered ${response.status()}`);
        // runs in the page (whose CSP allows no string eval); this file has no DOM types
        await page.waitForFunction((n: number) => {
          const doc = (globalThis as unknown as { document: PageDocument }).document;
          const holder = doc.getElementById("events-table");
          return (
            holder !== null &&
            !holder.hasAttribute("aria-busy") &&
            doc.getElementById("page-number")?.textContent === `Page ${n}`
          );
        }, answers.length);
        const drawn = await page.locator("#events-table").getAttribute("data-draw-ms");
        draws.push(Number(drawn));
        return page.locator("#events tbody tr").count();
      };
      // development mode on loopback: the page signs in as the development user
      const rows = await nextPage(() => page.goto(`${server.url}/console/`));
      console.log(`first page after the restart: ${rows} rows, answer ${answers[0]!.toFixed(0)} ms`);
      for (let p = 1; p < pages; p++) {
        await nextPage(() => page.getByRole("button", { name: "Next page" }).click());
      }
      const sortedAnswers = [...answers.slice(1)].sort((a, b) => a - b);
      const sortedDraws = [...draws].sort((a, b) => a - b);
      console.log(
        `later pages (${sortedAnswers.length}): answer p50 ${percentile(sortedAnswers, 50).toFixed(1)} ms, ` +
          `max ${percentile(sortedAnswers, 100).toFixed(1)} ms`,
      );
      console.log(
        `50 rows drawn after the answer (${sortedDraws.length} pages): p50 ${percentile(sortedDraws, 50).toFixed(1)} ms, ` +
          `max ${percentile(sortedDraws, 100).toFixed(1)} ms`,
      );
    } finally {
      await browser.close();
      await server.stop("SIGTERM");
    }
  } finally {
    if (!flags.keep && flags.dir === undefined) rmSync(dataDir, { recursive: true, force: true });
  }
}

await main();
