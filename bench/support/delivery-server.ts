import { readdirSync } from "node:fs";
import { join, sep } from "node:path";
import { type ServerProcess, type ServerProcessOptions, startServerProcess } from "./server-process.ts";

/**
 * `opentrail serve` as a child process with a delivery interval of its own, for the delivery
 * crash test and benchmark, and the log files it writes into its local buckets.
 */

export interface DeliveryServerOptions extends ServerProcessOptions {
  /** `--delivery-interval`, in seconds (fractions allowed). */
  deliveryIntervalSeconds: number;
}

export function startDeliveryServer(opts: DeliveryServerOptions): Promise<ServerProcess> {
  const interval = String(opts.deliveryIntervalSeconds);
  if (!/^\d+(\.\d+)?$/.test(interval)) throw new Error(`not a number of seconds: ${interval}`);
  return startServerProcess({
    ...opts,
    serveArgs: [...(opts.serveArgs ?? []), "--delivery-interval", interval],
  });
}

/** The local bucket directory of a server's data directory. */
export function bucketDir(dataDir: string, bucket: string): string {
  return join(dataDir, "buckets", bucket);
}

/**
 * Keys of the log files in a local bucket directory, sorted. A file appears there by an atomic
 * rename, so every listed file is whole; temporary files and metadata sidecars are left out.
 */
export function logFileKeys(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir, { recursive: true }) as string[];
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw e;
  }
  return names
    .filter((name) => name.endsWith(".json.gz"))
    .map((name) => name.split(sep).join("/"))
    .sort();
}
