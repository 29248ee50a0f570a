import { createHash } from "node:crypto";
import { readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { gunzipSync, gzipSync } from "node:zlib";
import { Hash } from "@smithy/hash-node";
import { SignatureV4 } from "@smithy/signature-v4";

export interface IngestClientOptions {
  /** Base URL of an opentrail server. */
  endpoint: string;
  region?: string;
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** Records per POST /ingest; default 500. */
  batchSize?: number;
  /** Attempts per batch on network errors and 5xx; default 5. */
  attempts?: number;
  onProgress?: (p: IngestProgress) => void;
}

export interface IngestProgress {
  files: number;
  filesDone: number;
  records: number;
  stored: number;
  duplicates: number;
}

export class IngestError extends Error {
  readonly status: number;
  readonly body: string;
  constructor(status: number, body: string, file?: string) {
    super(`ingest refused (${status})${file ? ` for ${file}` : ""}: ${body}`);
    this.status = status;
    this.body = body;
  }
}

/**
 * A record without an eventID would get a fresh one on every run; an id derived from its content
 * keeps a rerun from storing it twice.
 */
export function withStableEventId(record: unknown): unknown {
  if (typeof record !== "object" || record === null || Array.isArray(record) || "eventID" in record)
    return record;
  const h = createHash("sha256").update(JSON.stringify(record)).digest("hex");
  const id = `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${((Number.parseInt(h[16]!, 16) & 3) | 8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
  return { ...record, eventID: id };
}

/** Every .json and .json.gz file under the given files and directories, in name order. */
export async function findLogFiles(paths: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  async function walk(path: string): Promise<void> {
    const info = await stat(path);
    if (info.isDirectory()) {
      const names = (await readdir(path)).sort();
      for (const name of names) await walk(join(path, name));
    } else if (/\.json(\.gz)?$/.test(path)) {
      out.push(path);
    }
  }
  for (const p of paths) await walk(p);
  return out;
}

export async function readLogFile(path: string): Promise<unknown[]> {
  let body = await readFile(path);
  if (body[0] === 0x1f && body[1] === 0x8b) body = gunzipSync(body);
  const parsed = JSON.parse(body.toString("utf8")) as { Records?: unknown };
  if (!Array.isArray(parsed.Records))
    throw new Error(`${path} is not a CloudTrail log file (no "Records" list)`);
  return parsed.Records;
}

/** Posts CloudTrail records to POST /ingest, signed; batches are retried, and reruns are safe. */
export function ingestClient(opts: IngestClientOptions) {
  const url = new URL("/ingest", opts.endpoint);
  const region = opts.region ?? "us-east-1";
  const signer = new SignatureV4({
    credentials: opts.credentials ?? { accessKeyId: "test", secretAccessKey: "test" },
    region,
    service: "cloudtrail",
    sha256: Hash.bind(null, "sha256"),
  });
  const attempts = opts.attempts ?? 5;

  async function postOnce(body: Buffer): Promise<Response> {
    const signed = await signer.sign({
      method: "POST",
      protocol: url.protocol,
      hostname: url.hostname,
      port: url.port ? Number(url.port) : undefined,
      path: url.pathname,
      headers: {
        host: url.host,
        "content-type": "application/json",
        "content-encoding": "gzip",
      },
      body,
    });
    return fetch(url, { method: "POST", headers: signed.headers as Record<string, string>, body });
  }

  /** Sends one batch; resolves with the stored ids once the server has committed them. */
  async function send(records: readonly unknown[]): Promise<{ eventIds: string[]; duplicates: string[] }> {
    const body = gzipSync(JSON.stringify({ Records: records }));
    let lastError: unknown;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      try {
        const res = await postOnce(body);
        const text = await res.text();
        if (res.ok) return JSON.parse(text) as { eventIds: string[]; duplicates: string[] };
        if (res.status < 500) throw new IngestError(res.status, text);
        lastError = new IngestError(res.status, text);
      } catch (e) {
        if (e instanceof IngestError && e.status < 500) throw e;
        lastError = e;
      }
      if (attempt < attempts) await new Promise((r) => setTimeout(r, Math.min(5000, 100 * 2 ** attempt)));
    }
    throw lastError;
  }

  return {
    send,

    /** Replays log files (such as a copy of a CloudTrail bucket) into the server. */
    async ingestFiles(paths: readonly string[]): Promise<IngestProgress> {
      const files = await findLogFiles(paths);
      const batchSize = opts.batchSize ?? 500;
      const progress: IngestProgress = {
        files: files.length,
        filesDone: 0,
        records: 0,
        stored: 0,
        duplicates: 0,
      };
      let batch: unknown[] = [];
      const flush = async () => {
        if (batch.length === 0) return;
        const answer = await send(batch);
        progress.stored += answer.eventIds.length - answer.duplicates.length;
        progress.duplicates += answer.duplicates.length;
        batch = [];
        opts.onProgress?.({ ...progress });
      };
      for (const file of files) {
        for (const record of await readLogFile(file)) {
          batch.push(withStableEventId(record));
          progress.records++;
          if (batch.length >= batchSize) await flush();
        }
        progress.filesDone++;
        opts.onProgress?.({ ...progress });
      }
      await flush();
      return progress;
    },
  };
}
