import { randomBytes } from "node:crypto";
import { constants, type Dirent } from "node:fs";
import { access, mkdir, open, readdir, readFile, rename, stat, unlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import {
  type BucketHost,
  type BucketProbe,
  type ObjectFacts,
  type ObjectStore,
  ObjectStoreError,
  type PutOptions,
  type StoredObject,
} from "../../ports/index.ts";
import { readSidecar, sidecarJson } from "./sidecar.ts";

/**
 * What S3 keeps beside an object's bytes lives out of the bucket's tree, so that a bucket
 * directory holds the objects and nothing else: object `<root>/<bucket>/<path>` has its metadata
 * in `<root>/.metadata/<bucket>/<path>`. No bucket name starts with a dot, so this is no bucket.
 */
export const METADATA_DIR = ".metadata";
/**
 * Until 2026-12 the metadata was a sidecar `<object path>.metadata.json` beside the object; the
 * store moves such sidecars into METADATA_DIR once, and still never lists or names a key so.
 */
export const SIDECAR_SUFFIX = ".metadata.json";
/** Written into METADATA_DIR once the sidecars of the buckets present were moved. */
const MIGRATED_MARK = "layout-2";
/** S3's limit, kept here so that a key either store accepts fits both. */
const KEY_MAX_BYTES = 1024;
// Temp files live next to their target (a rename within one directory is atomic) and carry a
// suffix no accepted key can end with (`<name>.<16 hex digits>.tmp`), so listings skip leftovers
// of a crash and start-up removes them (removeTempFiles).
const TEMP_NAME = /\.[0-9a-f]{16}\.tmp$/;

/**
 * A name that could climb out of the root or name a subdirectory is no bucket here, nor one that
 * starts with a dot (S3 names start with a letter or digit; METADATA_DIR is this store's own).
 */
export function isDirectoryName(bucket: string): boolean {
  return bucket !== "" && !bucket.startsWith(".") && !/[/\\\0]/.test(bucket);
}

function errorCode(e: unknown): string | undefined {
  return typeof e === "object" && e !== null && "code" in e ? String(e.code) : undefined;
}

export const isMissing = (e: unknown) => ["ENOENT", "ENOTDIR", "EISDIR"].includes(errorCode(e) ?? "");

/** Why a key cannot be an object here, or undefined when it can. */
function keyProblem(key: string): ObjectStoreError | undefined {
  if (Buffer.byteLength(key) > KEY_MAX_BYTES) {
    return new ObjectStoreError("KeyTooLongError", `key longer than ${KEY_MAX_BYTES} bytes`);
  }
  if (key === "") return new ObjectStoreError("InvalidArgument", "empty key");
  return undefined;
}

/**
 * A key's segment (between slashes) as a file or folder name. S3 keys may hold empty, "." and
 * ".." segments (a trail prefix "logs/" gives "logs//AWSLogs/..."), which a file system would
 * fold away or climb out with, NUL, which no file name holds, and names this store keeps for
 * itself. Those are written with percent escapes, and "%" itself as "%25", so every key has a
 * path of its own: "" is "%", "." is "%2E", NUL is "%00", and a name ending like a sidecar or
 * temp file has its last "." as "%2E".
 */
function escapedName(segment: string, last: boolean): string {
  if (segment === "") return "%";
  if (segment === "." || segment === "..") return segment.replaceAll(".", "%2E");
  const name = segment.replaceAll("%", "%25").replaceAll("\0", "%00");
  if (last && (name.endsWith(SIDECAR_SUFFIX) || TEMP_NAME.test(name))) {
    const dot = name.lastIndexOf(".");
    return `${name.slice(0, dot)}%2E${name.slice(dot + 1)}`;
  }
  return name;
}

/**
 * A file name holds at most 255 bytes (ext4, xfs, btrfs, APFS), a key segment up to S3's 1,024.
 * A segment whose name is longer than PIECE_MAX_BYTES is written as pieces of at most that many
 * bytes (cut between characters and escapes), each but the last a folder whose name ends with
 * CONTINUED: its entries continue the segment rather than start the next one. Every segment is
 * cut at the same places, so segments that share their first piece share its folder. The limit
 * leaves room for the sidecar and temp suffixes (14 + 21 bytes).
 */
const PIECE_MAX_BYTES = 200;
const CONTINUED = "%+";
/** The units a name is cut between: an escape, or one character. */
const NAME_UNITS = /%(?:25|2E|00)|%|[\s\S]/gu;

function segmentNames(segment: string, last: boolean): string[] {
  const name = escapedName(segment, last);
  if (Buffer.byteLength(name) <= PIECE_MAX_BYTES) return [name];
  const pieces: string[] = [];
  let piece = "";
  let bytes = 0;
  for (const [unit] of name.matchAll(NAME_UNITS)) {
    const size = Buffer.byteLength(unit);
    if (bytes + size > PIECE_MAX_BYTES) {
      pieces.push(piece + CONTINUED);
      piece = "";
      bytes = 0;
    }
    piece += unit;
    bytes += size;
  }
  // a last piece of "." or ".." would climb out as a file name
  pieces.push(piece === "." || piece === ".." ? piece.replaceAll(".", "%2E") : piece);
  return pieces;
}

/** The key text a file or folder name (or piece of one) stands for (segmentNames backwards). */
function segmentOf(name: string): string {
  if (name === "%") return "";
  return name.includes("%")
    ? name.replace(/%(25|2E|00)/g, (_, hex: string) => (hex === "25" ? "%" : hex === "2E" ? "." : "\0"))
    : name;
}

/** The file and folder names of a key below its bucket's directory, in order. */
function keyNames(key: string): string[] {
  const segments = key.split("/");
  return segments.flatMap((s, i) => segmentNames(s, i === segments.length - 1));
}

/** Where the object `key` lives below its bucket's directory. */
export function keyPath(bucketDir: string, key: string): string {
  return join(bucketDir, ...keyNames(key));
}

/** Compares as S3 orders keys: by UTF-8 bytes, which differs from UTF-16 order above U+FFFF. */
function compareKeys(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

function fsFailure(e: unknown, what: string): ObjectStoreError {
  if (e instanceof ObjectStoreError) return e;
  const code = errorCode(e);
  const detail = `${what}: ${e instanceof Error ? e.message : String(e)}`;
  switch (code) {
    case "EACCES":
    case "EPERM":
    case "EROFS":
      return new ObjectStoreError("AccessDenied", detail, { cause: e });
    case "ENAMETOOLONG":
      return new ObjectStoreError("KeyTooLongError", detail, { cause: e });
    // A key whose folder is an object, or an object where a folder of other keys is: S3 allows
    // both, a file system does not.
    case "ENOTDIR":
    case "EISDIR":
    case "EEXIST":
      return new ObjectStoreError("InvalidArgument", detail, { cause: e });
    default:
      return new ObjectStoreError("InternalError", detail, { cause: e });
  }
}

async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, "r");
  try {
    await handle.sync();
  } catch (e) {
    // Some file systems cannot sync a directory; the rename is then as durable as they allow.
    if (errorCode(e) !== "EINVAL" && errorCode(e) !== "EISDIR") throw e;
  } finally {
    await handle.close();
  }
}

/** Writes `name` in `dir` so that readers see the old file or the whole new one, even after a crash. */
async function writeAtomically(dir: string, name: string, data: Buffer): Promise<void> {
  const temp = join(dir, `${name}.${randomBytes(8).toString("hex")}.tmp`);
  try {
    const handle = await open(temp, "wx");
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, join(dir, name));
  } catch (e) {
    await unlink(temp).catch(() => {});
    throw e;
  }
  await syncDirectory(dir);
}

interface Entry {
  name: string;
  directory: boolean;
  /** A folder holding the rest of a long segment (CONTINUED), not the segments after it. */
  continued: boolean;
  /** The key of a file; for a folder, the prefix every key inside it starts with. */
  sortKey: string;
}

/** Buckets as directories: bucket `b` is `<root>/b/`, key `x/y` is the file `<root>/b/x/y`. */
export class LocalFsObjectStore implements ObjectStore, BucketHost {
  readonly #root: string;
  #migrated: Promise<void> | undefined;

  constructor(root: string) {
    this.#root = root;
  }

  /** Moves the sidecars of an older data directory out of the buckets, once, before any use. */
  #ready(): Promise<void> {
    this.#migrated ??= moveSidecars(this.#root);
    return this.#migrated;
  }

  /** Where the metadata of `key` in `bucket` lives. */
  #metadataPath(bucket: string, key: string): string {
    return keyPath(join(this.#root, METADATA_DIR, bucket), key);
  }

  async probeBucket(bucket: string): Promise<BucketProbe> {
    if (!isDirectoryName(bucket)) return "missing";
    const dir = join(this.#root, bucket);
    try {
      if (!(await stat(dir)).isDirectory()) return "denied";
    } catch (e) {
      if (errorCode(e) === "ENOENT" || errorCode(e) === "ENOTDIR") return "missing";
      throw e;
    }
    try {
      await access(dir, constants.W_OK);
      return "ok";
    } catch (e) {
      const code = errorCode(e);
      if (code === "EACCES" || code === "EPERM" || code === "EROFS") return "denied";
      throw e;
    }
  }

  /** The bucket's directory; NoSuchBucket when absent, AccessDenied when something else is there. */
  async #bucketDir(bucket: string): Promise<string> {
    const missing = () =>
      new ObjectStoreError("NoSuchBucket", `The specified bucket does not exist: ${bucket}`);
    if (!isDirectoryName(bucket)) throw missing();
    const dir = join(this.#root, bucket);
    let isDirectory: boolean;
    try {
      isDirectory = (await stat(dir)).isDirectory();
    } catch (e) {
      if (errorCode(e) === "ENOENT" || errorCode(e) === "ENOTDIR") throw missing();
      throw fsFailure(e, `bucket ${bucket}`);
    }
    if (!isDirectory) throw new ObjectStoreError("AccessDenied", `bucket ${bucket} is not a directory`);
    return dir;
  }

  async putObject(bucket: string, key: string, body: Buffer, opts: PutOptions = {}): Promise<void> {
    const problem = keyProblem(key);
    try {
      await this.#ready();
      const bucketDir = await this.#bucketDir(bucket);
      if (problem !== undefined) throw problem;
      const names = keyNames(key);
      const name = names.pop()!;
      const dir = await ensureFolders(bucketDir, names);
      // The metadata first: an object that can be seen always has its metadata.
      const metadataDir = join(this.#root, METADATA_DIR, bucket, ...names);
      await mkdir(metadataDir, { recursive: true });
      await writeAtomically(metadataDir, name, sidecarJson(opts));
      await writeAtomically(dir, name, body);
    } catch (e) {
      throw fsFailure(e, `put ${bucket}/${key}`);
    }
  }

  async getObject(bucket: string, key: string): Promise<StoredObject | undefined> {
    try {
      await this.#ready();
      const bucketDir = await this.#bucketDir(bucket);
      // A key this store could not have written is simply absent.
      if (keyProblem(key) !== undefined) return undefined;
      const path = keyPath(bucketDir, key);
      let body: Buffer;
      try {
        body = await readFile(path);
      } catch (e) {
        if (isMissing(e)) return undefined;
        throw e;
      }
      let sidecar: string | undefined;
      try {
        sidecar = await readFile(this.#metadataPath(bucket, key), "utf8");
      } catch (e) {
        if (!isMissing(e)) throw e;
      }
      return { body, ...readSidecar(sidecar) };
    } catch (e) {
      throw fsFailure(e, `get ${bucket}/${key}`);
    }
  }

  listKeys(bucket: string, prefix: string, startAfter?: string): AsyncIterable<string> {
    return this.#list(bucket, prefix, startAfter);
  }

  async *#list(bucket: string, prefix: string, startAfter: string | undefined): AsyncGenerator<string> {
    let bucketDir: string;
    try {
      await this.#ready();
      bucketDir = await this.#bucketDir(bucket);
    } catch (e) {
      throw fsFailure(e, `list ${bucket}`);
    }
    yield* walk(bucketDir, "", prefix, startAfter);
  }

  async deleteObject(bucket: string, key: string): Promise<void> {
    try {
      await this.#ready();
      const bucketDir = await this.#bucketDir(bucket);
      if (keyProblem(key) !== undefined) return;
      // The object first, so that no object is ever seen without its metadata.
      for (const file of [keyPath(bucketDir, key), this.#metadataPath(bucket, key)]) {
        await unlink(file).catch((e: unknown) => {
          if (!isMissing(e)) throw e;
        });
      }
    } catch (e) {
      throw fsFailure(e, `delete ${bucket}/${key}`);
    }
  }

  /**
   * Removes the temp files a crash left in the buckets (a put killed between creating its temp
   * file and renaming it). Only names of writeAtomically's pattern are touched: an object's own
   * name never has it (escapedName), so no object and no file of another program's naming goes.
   * For start-up, before anything writes. How many were removed.
   */
  async removeTempFiles(): Promise<number> {
    let removed = 0;
    const sweep = async (dir: string): Promise<void> => {
      let dirents: Dirent[];
      try {
        dirents = await readdir(dir, { withFileTypes: true });
      } catch (e) {
        if (isMissing(e)) return;
        throw e;
      }
      for (const d of dirents) {
        if (d.isDirectory()) await sweep(join(dir, d.name));
        else if (d.isFile() && TEMP_NAME.test(d.name)) {
          await unlink(join(dir, d.name)).catch((e: unknown) => {
            if (!isMissing(e)) throw e;
          });
          removed++;
        }
      }
    };
    let buckets: Dirent[];
    try {
      buckets = await readdir(this.#root, { withFileTypes: true });
    } catch (e) {
      if (isMissing(e)) return 0;
      throw e;
    }
    // inside buckets only: the root's own files are no objects
    for (const b of buckets) if (b.isDirectory()) await sweep(join(this.#root, b.name));
    return removed;
  }

  async listBuckets(): Promise<{ name: string; created: Date }[]> {
    const found: { name: string; created: Date }[] = [];
    for (const d of await readdir(this.#root, { withFileTypes: true })) {
      if (!d.isDirectory() || !isDirectoryName(d.name)) continue;
      const facts = await stat(join(this.#root, d.name));
      found.push({ name: d.name, created: facts.birthtimeMs > 0 ? facts.birthtime : facts.mtime });
    }
    return found.sort((a, b) => compareKeys(a.name, b.name));
  }

  async createBucket(bucket: string): Promise<"created" | "exists"> {
    if (!isDirectoryName(bucket))
      throw new ObjectStoreError("InvalidBucketName", "The specified bucket is not valid.");
    try {
      await mkdir(join(this.#root, bucket));
      await syncDirectory(this.#root);
      return "created";
    } catch (e) {
      if (errorCode(e) === "EEXIST") return "exists";
      throw fsFailure(e, `create bucket ${bucket}`);
    }
  }

  async bucketExists(bucket: string): Promise<boolean> {
    try {
      await this.#bucketDir(bucket);
      return true;
    } catch (e) {
      if (e instanceof ObjectStoreError && e.code === "NoSuchBucket") return false;
      throw e;
    }
  }

  async objectFacts(bucket: string, key: string): Promise<ObjectFacts | undefined> {
    try {
      await this.#ready();
      const bucketDir = await this.#bucketDir(bucket);
      if (keyProblem(key) !== undefined) return undefined;
      const facts = await stat(keyPath(bucketDir, key));
      return facts.isFile() ? { size: facts.size, lastModified: facts.mtime } : undefined;
    } catch (e) {
      if (isMissing(e)) return undefined;
      throw fsFailure(e, `stat ${bucket}/${key}`);
    }
  }

  async close(): Promise<void> {}
}

/**
 * Creates the folders (names, not key segments) of a key one level at a time below the bucket,
 * never the bucket itself: a bucket removed meanwhile must stay removed (NoSuchBucket), not come
 * back empty.
 */
async function ensureFolders(bucketDir: string, names: string[]): Promise<string> {
  const target = join(bucketDir, ...names);
  try {
    if ((await stat(target)).isDirectory()) return target;
  } catch (e) {
    if (errorCode(e) !== "ENOENT") throw e;
  }
  let dir = bucketDir;
  for (const name of names) {
    const next = join(dir, name);
    try {
      await mkdir(next);
      // The new folder's entry must survive a crash as much as the files that go into it.
      await syncDirectory(dir);
    } catch (e) {
      if (errorCode(e) === "ENOENT" && dir === bucketDir) {
        throw new ObjectStoreError("NoSuchBucket", "The specified bucket does not exist", { cause: e });
      }
      if (errorCode(e) !== "EEXIST") throw e;
    }
    dir = next;
  }
  return dir;
}

/**
 * Keys below `dir` (whose keys start with `keyPrefix`) that start with `prefix` and come after
 * `startAfter`, in S3 order. A folder sorts as its name plus "/", which is where its keys fall
 * among its siblings; folders that cannot hold a wanted key are not read. A continued folder (a
 * long segment's piece) holds keys that start with its text, which may interleave with siblings
 * that start with it too: those are merged.
 */
async function* walk(
  dir: string,
  keyPrefix: string,
  prefix: string,
  startAfter: string | undefined,
): AsyncGenerator<string> {
  let dirents: Dirent[];
  try {
    dirents = await readdir(dir, { withFileTypes: true });
  } catch (e) {
    // A folder removed while the listing runs holds no keys any more.
    if (keyPrefix !== "" && isMissing(e)) return;
    throw fsFailure(e, `list ${dir}`);
  }
  const entries: Entry[] = [];
  for (const d of dirents) {
    if (d.isDirectory()) {
      const continued = d.name.endsWith(CONTINUED);
      const text = segmentOf(continued ? d.name.slice(0, -CONTINUED.length) : d.name);
      const sortKey = `${keyPrefix}${text}${continued ? "" : "/"}`;
      if (!sortKey.startsWith(prefix) && !prefix.startsWith(sortKey)) continue;
      // Every key inside is below startAfter when the folder's prefix already is and is no prefix of it.
      if (
        startAfter !== undefined &&
        compareKeys(sortKey, startAfter) < 0 &&
        !startAfter.startsWith(sortKey)
      ) {
        continue;
      }
      entries.push({ name: d.name, directory: true, continued, sortKey });
    } else if (d.isFile()) {
      if (d.name.endsWith(SIDECAR_SUFFIX) || TEMP_NAME.test(d.name)) continue;
      const key = keyPrefix + segmentOf(d.name);
      if (!key.startsWith(prefix)) continue;
      if (startAfter !== undefined && compareKeys(key, startAfter) <= 0) continue;
      entries.push({ name: d.name, directory: false, continued: false, sortKey: key });
    }
  }
  entries.sort((a, b) => compareKeys(a.sortKey, b.sortKey));
  const keysOf = (entry: Entry): AsyncGenerator<string> =>
    entry.directory ? walk(join(dir, entry.name), entry.sortKey, prefix, startAfter) : single(entry.sortKey);
  for (let i = 0; i < entries.length; i++) {
    const entry = entries[i]!;
    if (!entry.continued) {
      yield* keysOf(entry);
      continue;
    }
    // the siblings whose keys start with the continued text come right after it in order
    const group = [entry];
    while (i + 1 < entries.length && entries[i + 1]!.sortKey.startsWith(entry.sortKey))
      group.push(entries[++i]!);
    yield* group.length === 1 ? keysOf(entry) : mergeSorted(group.map(keysOf));
  }
}

async function* single(key: string): AsyncGenerator<string> {
  yield key;
}

/** Sorted key streams as one sorted stream. */
async function* mergeSorted(streams: AsyncGenerator<string>[]): AsyncGenerator<string> {
  const heads = await Promise.all(streams.map((s) => s.next()));
  for (;;) {
    let min = -1;
    for (let i = 0; i < heads.length; i++) {
      const h = heads[i]!;
      if (
        !h.done &&
        (min === -1 || compareKeys(h.value, (heads[min] as IteratorYieldResult<string>).value) < 0)
      ) {
        min = i;
      }
    }
    if (min === -1) return;
    yield (heads[min] as IteratorYieldResult<string>).value;
    heads[min] = await streams[min]!.next();
  }
}

/**
 * Moves every `<name>.metadata.json` sidecar of the buckets under `root` to its place in
 * METADATA_DIR, then marks the move done, so that it runs once per data directory. A sidecar
 * whose object is gone is moved all the same: a put in flight at a crash had written it first.
 */
async function moveSidecars(root: string): Promise<void> {
  const metadataRoot = join(root, METADATA_DIR);
  const mark = join(metadataRoot, MIGRATED_MARK);
  try {
    await access(mark);
    return;
  } catch (e) {
    if (!isMissing(e)) throw fsFailure(e, `read ${mark}`);
  }
  let buckets: Dirent[];
  try {
    buckets = await readdir(root, { withFileTypes: true });
  } catch (e) {
    if (isMissing(e)) return;
    throw fsFailure(e, `list ${root}`);
  }
  const move = async (dir: string, metadataDir: string): Promise<void> => {
    for (const d of await readdir(dir, { withFileTypes: true })) {
      if (d.isDirectory()) await move(join(dir, d.name), join(metadataDir, d.name));
      else if (d.isFile() && d.name.endsWith(SIDECAR_SUFFIX)) {
        await mkdir(metadataDir, { recursive: true });
        await rename(join(dir, d.name), join(metadataDir, d.name.slice(0, -SIDECAR_SUFFIX.length)));
      }
    }
  };
  for (const bucket of buckets) {
    if (bucket.isDirectory() && isDirectoryName(bucket.name)) {
      await move(join(root, bucket.name), join(metadataRoot, bucket.name));
    }
  }
  await mkdir(metadataRoot, { recursive: true });
  await writeFile(mark, "object metadata lives here, out of the buckets\n");
}
