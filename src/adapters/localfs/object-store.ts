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
// suffix no accepted key can end with, so listings can skip leftovers of a crash.
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
  if (key.includes("\0"))
    return new ObjectStoreError("InvalidArgument", `key contains a NUL character: ${key}`);
  return undefined;
}

/**
 * A key's segment (between slashes) as a file or folder name. S3 keys may hold empty, "." and
 * ".." segments (a trail prefix "logs/" gives "logs//AWSLogs/..."), which a file system would
 * fold away or climb out with, and names this store keeps for itself. Those are written with
 * percent escapes, and "%" itself as "%25", so every key has a path of its own: "" is "%",
 * "." is "%2E", and a name ending like a sidecar or temp file has its last "." as "%2E".
 */
function segmentName(segment: string, last: boolean): string {
  if (segment === "") return "%";
  if (segment === "." || segment === "..") return segment.replaceAll(".", "%2E");
  const name = segment.replaceAll("%", "%25");
  if (last && (name.endsWith(SIDECAR_SUFFIX) || TEMP_NAME.test(name))) {
    const dot = name.lastIndexOf(".");
    return `${name.slice(0, dot)}%2E${name.slice(dot + 1)}`;
  }
  return name;
}

/** The key segment a file or folder name stands for (segmentName backwards). */
function segmentOf(name: string): string {
  if (name === "%") return "";
  return name.includes("%")
    ? name.replace(/%(25|2E)/g, (_, hex: string) => (hex === "25" ? "%" : "."))
    : name;
}

/** Where the object `key` lives below its bucket's directory. */
export function keyPath(bucketDir: string, key: string): string {
  const segments = key.split("/");
  return join(bucketDir, ...segments.map((s, i) => segmentName(s, i === segments.length - 1)));
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
      const segments = key.split("/");
      const name = segmentName(segments.pop()!, true);
      const folders = segments.map((s) => segmentName(s, false));
      const dir = await ensureFolders(bucketDir, folders);
      // The metadata first: an object that can be seen always has its metadata.
      const metadataDir = join(this.#root, METADATA_DIR, bucket, ...folders);
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
 * among its siblings; folders that cannot hold a wanted key are not read.
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
      const sortKey = `${keyPrefix}${segmentOf(d.name)}/`;
      if (!sortKey.startsWith(prefix) && !prefix.startsWith(sortKey)) continue;
      // Every key inside is below startAfter when the folder's prefix already is and is no prefix of it.
      if (
        startAfter !== undefined &&
        compareKeys(sortKey, startAfter) < 0 &&
        !startAfter.startsWith(sortKey)
      ) {
        continue;
      }
      entries.push({ name: d.name, directory: true, sortKey });
    } else if (d.isFile()) {
      if (d.name.endsWith(SIDECAR_SUFFIX) || TEMP_NAME.test(d.name)) continue;
      const key = keyPrefix + segmentOf(d.name);
      if (!key.startsWith(prefix)) continue;
      if (startAfter !== undefined && compareKeys(key, startAfter) <= 0) continue;
      entries.push({ name: d.name, directory: false, sortKey: key });
    }
  }
  entries.sort((a, b) => compareKeys(a.sortKey, b.sortKey));
  for (const entry of entries) {
    if (entry.directory) yield* walk(join(dir, entry.name), entry.sortKey, prefix, startAfter);
    else yield entry.sortKey;
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
