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
  /**
   * Development mode's account keys: each batch of records of one account (`recipientAccountId`)
   * is signed with that account's key (the 12-digit account id, any secret); records without an
   * account go with `credentials`. Otherwise every batch is signed with `credentials` and names
   * its account in `X-Opentrail-Account`, which the key must be allowed (`ingestAccounts`).
   */
  accountKeys?: boolean;
  /** Records per POST /ingest; default 500. */
  batchSize?: number;
  /** Attempts per batch on network errors and 5xx; default 5. */
  attempts?: number;
  onProgress?: (p: IngestProgress) => void;
  /** The time a request is signed at; default now. A server on a clock of its own checks against that. */
  signingDate?: () => Date;
}

export interface IngestProgress {
  /** Log files found. */
  files: number;
  filesDone: number;
  /** Files passed over: digests, the local store's sidecars, anything that is not a log file. */
  skipped: number;
  records: number;
  stored: number;
  duplicates: number;
  /** Stored records the server warned of: older than its 90 days of event history, or dated ahead. */
  warned: number;
}

/** The server's answer to a stored batch. */
export interface IngestAnswer {
  eventIds: string[];
  duplicates: string[];
  /** Stored records the caller should hear about, by index in the batch. */
  warnings?: { index: number; reason: string }[];
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

/** Why a file found under the paths is not replayed. */
export type SkipReason = "digest" | "sidecar" | "not-json" | "not-a-log";

export interface SkippedFile {
  path: string;
  reason: SkipReason;
  /** For "not-a-log": what is wrong with it. */
  detail?: string;
}

/** A digest file (`…/CloudTrail-Digest/…`), a sidecar of the local store, or another file. */
export function skipReason(path: string): SkipReason | undefined {
  const name = path.split(/[\\/]/).at(-1) ?? "";
  if (name.endsWith(".metadata.json")) return "sidecar";
  if (/(^|[\\/])CloudTrail-Digest[\\/]/.test(path) || name.includes("_CloudTrail-Digest_")) return "digest";
  if (!/\.json(\.gz)?$/.test(name)) return "not-json";
  return undefined;
}

/** Every file under the given files and directories, in name order: the log files, and the others. */
export async function findLogFiles(
  paths: readonly string[],
): Promise<{ logs: string[]; skipped: SkippedFile[] }> {
  const logs: string[] = [];
  const skipped: SkippedFile[] = [];
  async function walk(path: string): Promise<void> {
    const info = await stat(path);
    if (info.isDirectory()) {
      const names = (await readdir(path)).sort();
      for (const name of names) await walk(join(path, name));
      return;
    }
    const reason = skipReason(path);
    if (reason === undefined) logs.push(path);
    else skipped.push({ path, reason });
  }
  for (const p of paths) await walk(p);
  return { logs, skipped };
}

export class NotALogFile extends Error {}

export async function readLogFile(path: string): Promise<unknown[]> {
  let body = await readFile(path);
  let parsed: { Records?: unknown };
  try {
    if (body[0] === 0x1f && body[1] === 0x8b) body = gunzipSync(body);
    parsed = JSON.parse(body.toString("utf8")) as { Records?: unknown };
  } catch {
    throw new NotALogFile("not gzip or JSON that can be read");
  }
  if (!Array.isArray(parsed?.Records)) throw new NotALogFile('no "Records" list');
  return parsed.Records;
}

/** The account a record is for, as the server checks it; undefined: the signer's own. */
function accountOf(record: unknown): string | undefined {
  const id = (record as { recipientAccountId?: unknown } | null)?.recipientAccountId;
  return typeof id === "string" ? id : undefined;
}

/** Posts CloudTrail records to POST /ingest, signed; batches are retried, and reruns are safe. */
export function ingestClient(opts: IngestClientOptions) {
  const url = new URL("/ingest", opts.endpoint);
  const region = opts.region ?? "us-east-1";
  const signerOf = (credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string }) =>
    new SignatureV4({ credentials, region, service: "cloudtrail", sha256: Hash.bind(null, "sha256") });
  const ownSigner = signerOf(opts.credentials ?? { accessKeyId: "test", secretAccessKey: "test" });
  const accountSigners = new Map<string, SignatureV4>();
  const attempts = opts.attempts ?? 5;

  /** Who signs a batch for `account`, and the header that names it. */
  function signing(account: string | undefined): { signer: SignatureV4; headers: Record<string, string> } {
    if (account === undefined) return { signer: ownSigner, headers: {} };
    if (!opts.accountKeys) return { signer: ownSigner, headers: { "x-opentrail-account": account } };
    let signer = accountSigners.get(account);
    if (signer === undefined) {
      signer = signerOf({ accessKeyId: account, secretAccessKey: "test" });
      accountSigners.set(account, signer);
    }
    return { signer, headers: {} };
  }

  async function postOnce(body: Buffer, account: string | undefined): Promise<Response> {
    const { signer, headers } = signing(account);
    const signed = await signer.sign(
      {
        method: "POST",
        protocol: url.protocol,
        hostname: url.hostname,
        port: url.port ? Number(url.port) : undefined,
        path: url.pathname,
        headers: {
          host: url.host,
          "content-type": "application/json",
          "content-encoding": "gzip",
          ...headers,
        },
        body,
      },
      opts.signingDate ? { signingDate: opts.signingDate() } : undefined,
    );
    return fetch(url, { method: "POST", headers: signed.headers as Record<string, string>, body });
  }

  /**
   * Sends one batch, of `account`'s records if given (see `accountKeys`); resolves with the stored
   * ids once the server has committed them.
   */
  async function send(records: readonly unknown[], account?: string): Promise<IngestAnswer> {
    const body = gzipSync(JSON.stringify({ Records: records }));
    let lastError: unknown;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      try {
        const res = await postOnce(body, account);
        const text = await res.text();
        if (res.ok) return JSON.parse(text) as IngestAnswer;
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

    /**
     * Replays log files (such as a copy of a CloudTrail bucket) into the server, in batches of one
     * account's records each. Digests, sidecars and files that are no log file are passed over and
     * told to `onSkip`.
     */
    async ingestFiles(
      paths: readonly string[],
      onSkip?: (file: SkippedFile) => void,
    ): Promise<IngestProgress> {
      const found = await findLogFiles(paths);
      for (const file of found.skipped) onSkip?.(file);
      const batchSize = opts.batchSize ?? 500;
      const progress: IngestProgress = {
        files: found.logs.length,
        filesDone: 0,
        skipped: found.skipped.length,
        records: 0,
        stored: 0,
        duplicates: 0,
        warned: 0,
      };
      const batches = new Map<string | undefined, unknown[]>();
      const flush = async (account: string | undefined) => {
        const batch = batches.get(account);
        if (!batch || batch.length === 0) return;
        batches.delete(account);
        const answer = await send(batch, account);
        progress.stored += answer.eventIds.length - answer.duplicates.length;
        progress.duplicates += answer.duplicates.length;
        progress.warned += answer.warnings?.length ?? 0;
        opts.onProgress?.({ ...progress });
      };
      for (const file of found.logs) {
        let records: unknown[];
        try {
          records = await readLogFile(file);
        } catch (e) {
          if (!(e instanceof NotALogFile)) throw e;
          progress.files--;
          progress.skipped++;
          onSkip?.({ path: file, reason: "not-a-log", detail: e.message });
          continue;
        }
        for (const record of records) {
          const account = accountOf(record);
          let batch = batches.get(account);
          if (batch === undefined) {
            batch = [];
            batches.set(account, batch);
          }
          batch.push(withStableEventId(record));
          progress.records++;
          if (batch.length >= batchSize) await flush(account);
        }
        progress.filesDone++;
        opts.onProgress?.({ ...progress });
      }
      for (const account of [...batches.keys()]) await flush(account);
      return progress;
    },
  };
}
