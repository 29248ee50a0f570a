import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { isCloudTrailError } from "../../src/api/errors.ts";
import { DEFAULT_EVENT_SELECTORS, type Trail } from "../../src/domain/trail.ts";
import type { TrailRepo } from "../../src/ports/index.ts";

const ACCOUNT = "123456789012";
const OTHER_ACCOUNT = "210987654321";

/** A trail with only required members set; `overrides` may add or replace any. */
export function sampleTrail(overrides: Partial<Trail> = {}): Trail {
  const accountId = overrides.accountId ?? ACCOUNT;
  const homeRegion = overrides.homeRegion ?? "us-east-1";
  const name = overrides.name ?? "trail-1";
  return {
    accountId,
    homeRegion,
    name,
    arn: `arn:aws:cloudtrail:${homeRegion}:${accountId}:trail/${name}`,
    s3BucketName: "logs-bucket",
    includeGlobalServiceEvents: true,
    isMultiRegionTrail: false,
    logFileValidationEnabled: false,
    isOrganizationTrail: false,
    hasCustomEventSelectors: false,
    eventSelectors: structuredClone(DEFAULT_EVENT_SELECTORS),
    insightSelectors: [],
    tags: [],
    isLogging: false,
    createdAt: new Date("2026-01-02T03:04:05.678Z"),
    version: 1,
    ...overrides,
  };
}

/** A trail with every optional member set and non-default selectors, insights and tags. */
function fullTrail(): Trail {
  return sampleTrail({
    name: "full",
    s3KeyPrefix: "prefix/a",
    snsTopicName: "topic",
    snsTopicArn: `arn:aws:sns:us-east-1:${ACCOUNT}:topic`,
    isMultiRegionTrail: true,
    logFileValidationEnabled: true,
    cloudWatchLogsLogGroupArn: `arn:aws:logs:us-east-1:${ACCOUNT}:log-group:g:*`,
    cloudWatchLogsRoleArn: `arn:aws:iam::${ACCOUNT}:role/r`,
    kmsKeyId: `arn:aws:kms:us-east-1:${ACCOUNT}:key/0f0e0d0c-0b0a-0908-0706-050403020100`,
    hasCustomEventSelectors: true,
    eventSelectors: {
      mode: "advanced",
      selectors: [
        {
          Name: "s3 writes",
          FieldSelectors: [
            { Field: "eventCategory", Equals: ["Data"] },
            { Field: "resources.type", Equals: ["AWS::S3::Object"] },
            { Field: "readOnly", Equals: ["false"] },
          ],
        },
      ],
    },
    insightSelectors: [{ InsightType: "ApiCallRateInsight" }, { InsightType: "ApiErrorRateInsight" }],
    tags: [{ key: "team", value: "core" }, { key: "flag" }, { key: "empty", value: "" }],
    isLogging: true,
    startLoggingTime: new Date("2026-01-02T04:00:00.001Z"),
    stopLoggingTime: new Date("2026-01-02T03:30:00.000Z"),
  });
}

async function expectConflict(p: Promise<unknown>): Promise<void> {
  const error = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(isCloudTrailError(error), `expected a CloudTrailError, got ${String(error)}`).toBe(true);
  expect(error).toMatchObject({ code: "ConflictException", name: "ConflictException" });
}

/** What every TrailRepo must do; run it from each adapter's test file. */
export function trailRepoContract(name: string, make: () => Promise<TrailRepo>): void {
  describe(`TrailRepo contract: ${name}`, () => {
    let repo: TrailRepo;

    beforeEach(async () => {
      repo = await make();
    });

    afterEach(async () => {
      await repo.close();
    });

    describe("create and get", () => {
      it("returns what was created, with Dates as Dates", async () => {
        const trail = sampleTrail();
        await repo.create(trail);
        const got = await repo.get(ACCOUNT, "us-east-1", "trail-1");
        expect(got).toStrictEqual(trail);
        expect(got?.createdAt).toBeInstanceOf(Date);
      });

      it("keeps every optional member and nested structure", async () => {
        const trail = fullTrail();
        await repo.create(trail);
        expect(await repo.get(ACCOUNT, "us-east-1", "full")).toStrictEqual(trail);
      });

      it("leaves unset optional members absent, not null or undefined", async () => {
        await repo.create(sampleTrail());
        const got = await repo.get(ACCOUNT, "us-east-1", "trail-1");
        for (const key of [
          "s3KeyPrefix",
          "snsTopicName",
          "kmsKeyId",
          "startLoggingTime",
          "stopLoggingTime",
        ]) {
          expect(got !== undefined && key in got, key).toBe(false);
        }
      });

      it("answers undefined for an unknown trail", async () => {
        await repo.create(sampleTrail());
        expect(await repo.get(ACCOUNT, "us-east-1", "nope")).toBeUndefined();
        expect(await repo.get(ACCOUNT, "us-west-2", "trail-1")).toBeUndefined();
        expect(await repo.get(OTHER_ACCOUNT, "us-east-1", "trail-1")).toBeUndefined();
      });

      it("refuses a second trail with the same account, home region and name", async () => {
        await repo.create(sampleTrail());
        await expectConflict(repo.create(sampleTrail({ s3BucketName: "other" })));
        expect((await repo.get(ACCOUNT, "us-east-1", "trail-1"))?.s3BucketName).toBe("logs-bucket");
      });

      it("allows the same name in another home region or another account", async () => {
        await repo.create(sampleTrail());
        await repo.create(sampleTrail({ homeRegion: "eu-west-1" }));
        await repo.create(sampleTrail({ accountId: OTHER_ACCOUNT }));
        expect((await repo.get(ACCOUNT, "eu-west-1", "trail-1"))?.homeRegion).toBe("eu-west-1");
        expect((await repo.get(OTHER_ACCOUNT, "us-east-1", "trail-1"))?.accountId).toBe(OTHER_ACCOUNT);
      });

      it("is not changed by mutating the objects passed in or handed out", async () => {
        const trail = fullTrail();
        await repo.create(trail);
        trail.s3BucketName = "mutated";
        trail.tags.push({ key: "late" });
        trail.createdAt.setUTCFullYear(2000);
        const first = await repo.get(ACCOUNT, "us-east-1", "full");
        first!.insightSelectors.length = 0;
        first!.name = "renamed";
        expect(await repo.get(ACCOUNT, "us-east-1", "full")).toStrictEqual(fullTrail());
      });
    });

    describe("list", () => {
      it("lists one account's trails of every home region, sorted by home region then name", async () => {
        const keys: [string, string][] = [
          ["us-west-2", "b"],
          ["eu-west-1", "z"],
          ["us-east-1", "b"],
          ["us-east-1", "a"],
          ["us-east-1", "Z"],
          ["eu-west-1", "a"],
        ];
        for (const [homeRegion, name] of keys) await repo.create(sampleTrail({ homeRegion, name }));
        await repo.create(sampleTrail({ accountId: OTHER_ACCOUNT, name: "foreign" }));
        const listed = (await repo.list(ACCOUNT)).map((t) => `${t.homeRegion}/${t.name}`);
        // Code-point order in every adapter (upper case before lower case), not a locale collation.
        expect(listed).toEqual([
          "eu-west-1/a",
          "eu-west-1/z",
          "us-east-1/Z",
          "us-east-1/a",
          "us-east-1/b",
          "us-west-2/b",
        ]);
      });

      it("returns whole trails", async () => {
        await repo.create(fullTrail());
        expect(await repo.list(ACCOUNT)).toStrictEqual([fullTrail()]);
      });

      it("is empty for an account without trails", async () => {
        await repo.create(sampleTrail());
        expect(await repo.list(OTHER_ACCOUNT)).toEqual([]);
      });
    });

    describe("listAll", () => {
      it("lists the trails of every account, by account, then home region, then name", async () => {
        const keys: [string, string, string][] = [
          [OTHER_ACCOUNT, "us-east-1", "b"],
          [ACCOUNT, "us-west-2", "b"],
          [OTHER_ACCOUNT, "eu-west-1", "z"],
          [ACCOUNT, "us-east-1", "a"],
          [ACCOUNT, "us-east-1", "Z"],
          [OTHER_ACCOUNT, "us-east-1", "a"],
        ];
        for (const [accountId, homeRegion, name] of keys) {
          await repo.create(sampleTrail({ accountId, homeRegion, name }));
        }
        const listed = (await repo.listAll()).map((t) => `${t.accountId}/${t.homeRegion}/${t.name}`);
        expect(listed).toEqual([
          `${ACCOUNT}/us-east-1/Z`,
          `${ACCOUNT}/us-east-1/a`,
          `${ACCOUNT}/us-west-2/b`,
          `${OTHER_ACCOUNT}/eu-west-1/z`,
          `${OTHER_ACCOUNT}/us-east-1/a`,
          `${OTHER_ACCOUNT}/us-east-1/b`,
        ]);
      });

      it("returns whole trails, as list does", async () => {
        await repo.create(fullTrail());
        await repo.create(sampleTrail({ accountId: OTHER_ACCOUNT }));
        expect(await repo.listAll()).toStrictEqual([fullTrail(), sampleTrail({ accountId: OTHER_ACCOUNT })]);
        expect(await repo.listAll()).toStrictEqual([
          ...(await repo.list(ACCOUNT)),
          ...(await repo.list(OTHER_ACCOUNT)),
        ]);
      });

      it("follows updates and deletes, and is empty without trails", async () => {
        expect(await repo.listAll()).toEqual([]);
        await repo.create(sampleTrail());
        await repo.create(sampleTrail({ accountId: OTHER_ACCOUNT }));
        await repo.update(sampleTrail({ version: 2, s3BucketName: "moved" }));
        await repo.delete(OTHER_ACCOUNT, "us-east-1", "trail-1");
        expect(await repo.listAll()).toStrictEqual([sampleTrail({ version: 2, s3BucketName: "moved" })]);
        await repo.reset();
        expect(await repo.listAll()).toEqual([]);
      });
    });

    describe("update", () => {
      it("writes a trail whose version is one more than the stored one", async () => {
        await repo.create(sampleTrail());
        const next = sampleTrail({
          version: 2,
          isLogging: true,
          startLoggingTime: new Date("2026-02-01T00:00:00Z"),
        });
        await repo.update(next);
        expect(await repo.get(ACCOUNT, "us-east-1", "trail-1")).toStrictEqual(next);
        const third = sampleTrail({ version: 3, s3BucketName: "moved" });
        await repo.update(third);
        expect(await repo.get(ACCOUNT, "us-east-1", "trail-1")).toStrictEqual(third);
      });

      it("drops optional members the new version leaves out", async () => {
        await repo.create(fullTrail());
        const { s3KeyPrefix: _p, stopLoggingTime: _s, ...rest } = fullTrail();
        await repo.update({ ...rest, version: 2 });
        const got = await repo.get(ACCOUNT, "us-east-1", "full");
        expect(got).toStrictEqual({ ...rest, version: 2 });
        expect(got !== undefined && "s3KeyPrefix" in got).toBe(false);
      });

      it("refuses a stale write and keeps the stored trail", async () => {
        await repo.create(sampleTrail());
        await repo.update(sampleTrail({ version: 2, s3BucketName: "winner" }));
        await expectConflict(repo.update(sampleTrail({ version: 2, s3BucketName: "loser" })));
        await expectConflict(repo.update(sampleTrail({ version: 4, s3BucketName: "ahead" })));
        await expectConflict(repo.update(sampleTrail({ version: 1, s3BucketName: "same" })));
        const got = await repo.get(ACCOUNT, "us-east-1", "trail-1");
        expect(got?.s3BucketName).toBe("winner");
        expect(got?.version).toBe(2);
      });

      it("refuses to update a trail that does not exist", async () => {
        await expectConflict(repo.update(sampleTrail({ version: 2 })));
        expect(await repo.get(ACCOUNT, "us-east-1", "trail-1")).toBeUndefined();
      });

      it("touches only the trail it names", async () => {
        await repo.create(sampleTrail());
        await repo.create(sampleTrail({ homeRegion: "eu-west-1" }));
        await repo.update(sampleTrail({ version: 2, s3BucketName: "changed" }));
        expect((await repo.get(ACCOUNT, "eu-west-1", "trail-1"))?.s3BucketName).toBe("logs-bucket");
      });
    });

    describe("delete", () => {
      it("removes one trail and leaves the others", async () => {
        await repo.create(sampleTrail());
        await repo.create(sampleTrail({ homeRegion: "eu-west-1" }));
        await repo.delete(ACCOUNT, "us-east-1", "trail-1");
        expect(await repo.get(ACCOUNT, "us-east-1", "trail-1")).toBeUndefined();
        expect((await repo.list(ACCOUNT)).map((t) => t.homeRegion)).toEqual(["eu-west-1"]);
      });

      it("lets the name be created again, from version 1", async () => {
        await repo.create(sampleTrail());
        await repo.update(sampleTrail({ version: 2 }));
        await repo.delete(ACCOUNT, "us-east-1", "trail-1");
        await repo.create(sampleTrail({ s3BucketName: "again" }));
        expect((await repo.get(ACCOUNT, "us-east-1", "trail-1"))?.s3BucketName).toBe("again");
      });

      it("does nothing for a trail that does not exist", async () => {
        await expect(repo.delete(ACCOUNT, "us-east-1", "nope")).resolves.toBeUndefined();
      });
    });

    describe("reset", () => {
      it("forgets every trail of every account", async () => {
        await repo.create(sampleTrail());
        await repo.create(sampleTrail({ accountId: OTHER_ACCOUNT }));
        await repo.reset();
        expect(await repo.list(ACCOUNT)).toEqual([]);
        expect(await repo.list(OTHER_ACCOUNT)).toEqual([]);
        await repo.create(sampleTrail());
        expect(await repo.list(ACCOUNT)).toHaveLength(1);
      });
    });
  });
}
