import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { ObjectStore } from "../../src/ports/index.ts";

/** A store under test and the means to arrange its buckets from outside the port. */
export interface ObjectStoreFixture {
  store: ObjectStore;
  createBucket(bucket: string): Promise<void>;
  /** Where the backend can express it: leave the bucket there but make it unwritable. */
  denyBucket?(bucket: string): Promise<void>;
  close(): Promise<void>;
}

let counter = 0;

/**
 * A bucket name no other test of this process uses, so fixtures may share one server. Names stay
 * valid S3 names (lower case, digits, hyphens, 3–63 characters).
 */
function uniqueBucket(label: string): string {
  counter += 1;
  return `ot-${label}-${counter}`;
}

/** What every ObjectStore must do; run it from each adapter's test file. */
export function objectStoreContract(name: string, make: () => Promise<ObjectStoreFixture>): void {
  describe(`ObjectStore contract: ${name}`, () => {
    let fx: ObjectStoreFixture;

    beforeEach(async () => {
      fx = await make();
    });

    afterEach(async () => {
      await fx.close();
    });

    describe("probeBucket", () => {
      it("answers ok for an existing bucket", async () => {
        const bucket = uniqueBucket("ok");
        await fx.createBucket(bucket);
        expect(await fx.store.probeBucket(bucket)).toBe("ok");
      });

      it("answers missing for a bucket that does not exist", async () => {
        expect(await fx.store.probeBucket(uniqueBucket("missing"))).toBe("missing");
      });

      it("sees a bucket created after a probe found it missing", async () => {
        const bucket = uniqueBucket("late");
        expect(await fx.store.probeBucket(bucket)).toBe("missing");
        await fx.createBucket(bucket);
        expect(await fx.store.probeBucket(bucket)).toBe("ok");
      });

      it("tells buckets apart", async () => {
        const present = uniqueBucket("present");
        await fx.createBucket(present);
        expect(await fx.store.probeBucket(`${present}-x`)).toBe("missing");
      });

      it("answers denied for a bucket the service may not write to", async (ctx) => {
        if (fx.denyBucket === undefined) {
          ctx.skip();
          return;
        }
        const bucket = uniqueBucket("denied");
        await fx.createBucket(bucket);
        await fx.denyBucket(bucket);
        expect(await fx.store.probeBucket(bucket)).toBe("denied");
      });
    });
  });
}
