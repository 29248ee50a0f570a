import { chmod, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { LocalFsObjectStore } from "../../src/adapters/localfs/object-store.ts";
import { objectStoreContract } from "./object-store.contract.ts";

const tempRoot = () => mkdtemp(join(tmpdir(), "opentrail-localfs-"));

objectStoreContract("LocalFsObjectStore", async () => {
  const root = await tempRoot();
  const store = new LocalFsObjectStore(root);
  return {
    store,
    createBucket: (bucket) => mkdir(join(root, bucket)),
    // A plain file where the bucket directory should be: unwritable as a bucket even for root,
    // which file modes would not stop.
    async denyBucket(bucket) {
      await rm(join(root, bucket), { recursive: true });
      await writeFile(join(root, bucket), "");
    },
    async close() {
      await store.close();
      await rm(root, { recursive: true, force: true });
    },
  };
});

describe("LocalFsObjectStore", () => {
  let root: string;
  let store: LocalFsObjectStore;

  beforeEach(async () => {
    root = await tempRoot();
    store = new LocalFsObjectStore(root);
  });

  afterEach(async () => {
    await chmod(root, 0o700).catch(() => {});
    await rm(root, { recursive: true, force: true });
  });

  it("never looks outside its root", async () => {
    await mkdir(join(root, "inner", "bucket"), { recursive: true });
    const inner = new LocalFsObjectStore(join(root, "inner"));
    for (const name of ["..", ".", "", "bucket/..", "../inner", "a\\b"]) {
      expect(await inner.probeBucket(name), name).toBe("missing");
    }
    expect(await inner.probeBucket("bucket")).toBe("ok");
  });

  it("answers missing when the root itself does not exist", async () => {
    expect(await new LocalFsObjectStore(join(root, "absent")).probeBucket("b")).toBe("missing");
  });

  it("answers denied for a directory without write permission", async (ctx) => {
    // root may write anywhere, so the check can only be seen as another user.
    if (process.getuid?.() === 0) {
      ctx.skip();
      return;
    }
    await mkdir(join(root, "readonly"));
    await chmod(join(root, "readonly"), 0o500);
    expect(await store.probeBucket("readonly")).toBe("denied");
  });
});
