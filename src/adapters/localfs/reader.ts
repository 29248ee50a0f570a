import { open } from "node:fs/promises";
import { join } from "node:path";
import { type ObjectReader, ObjectStoreError } from "../../ports/index.ts";
import { isDirectoryName, isMissing, keyPath, LocalFsObjectStore } from "./object-store.ts";

/**
 * The local buckets of `opentrail serve` read as an ObjectReader: listings and whole objects as
 * the object store reads them, log files streamed from their files.
 */
export function localObjectReader(root: string): ObjectReader {
  const store = new LocalFsObjectStore(root);
  return {
    listKeys: (bucket, prefix, startAfter) => store.listKeys(bucket, prefix, startAfter),
    getObject: (bucket, key) => store.getObject(bucket, key),
    async openObject(bucket, key) {
      if (!isDirectoryName(bucket) || key === "") return undefined;
      try {
        const handle = await open(keyPath(join(root, bucket), key), "r");
        return handle.createReadStream();
      } catch (e) {
        if (isMissing(e)) return undefined;
        throw new ObjectStoreError("InternalError", `open ${bucket}/${key}: ${String(e)}`, { cause: e });
      }
    },
    close: () => store.close(),
  };
}
