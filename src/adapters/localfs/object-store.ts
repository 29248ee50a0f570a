import { constants } from "node:fs";
import { access, stat } from "node:fs/promises";
import { join } from "node:path";
import type { BucketProbe, ObjectStore } from "../../ports/index.ts";

/** A name that could climb out of the root or name a subdirectory is no bucket here. */
function isDirectoryName(bucket: string): boolean {
  return bucket !== "" && bucket !== "." && bucket !== ".." && !/[/\\\0]/.test(bucket);
}

function errorCode(e: unknown): string | undefined {
  return typeof e === "object" && e !== null && "code" in e ? String(e.code) : undefined;
}

/** Buckets as directories: bucket `b` is `<root>/b/`. */
export class LocalFsObjectStore implements ObjectStore {
  readonly #root: string;

  constructor(root: string) {
    this.#root = root;
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

  async close(): Promise<void> {}
}
