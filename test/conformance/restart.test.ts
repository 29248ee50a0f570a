import { describe, expect, it } from "vitest";
import type { CloudTrailApi } from "../../src/api/index.ts";
import { alreadyExists, arnOf, BUCKET, makeTrail, OTHER_REGION, tooManyTrails } from "./fixtures.ts";
import { expectError, forEachTarget, OTHER_ACCOUNT, REGION, stripped, type Target } from "./harness.ts";

/** Everything the API can tell about the trails of both accounts, as plain data. */
async function snapshot(t: Target) {
  const view = async (api: CloudTrailApi, region: string) => {
    const { trailList = [] } = await api.describeTrails({});
    const trails = [];
    for (const trail of trailList) {
      const Name = trail.TrailARN;
      const insights = await api.getInsightSelectors({ TrailName: Name }).catch((e: Error) => e.name);
      const tags =
        trail.HomeRegion === region
          ? await api.listTags({ ResourceIdList: [trail.TrailARN ?? ""] })
          : "elsewhere";
      trails.push({
        trail,
        status: await api.getTrailStatus({ Name }),
        selectors: await api.getEventSelectors({ TrailName: Name }),
        insights,
        tags,
      });
    }
    return trails;
  };
  return stripped({
    list: await t.api.listTrails({}),
    home: await view(t.api, REGION),
    west: await view(t.apiIn(OTHER_REGION), OTHER_REGION),
    other: await view(t.apiAs(OTHER_ACCOUNT), REGION),
  });
}

forEachTarget("Restart", (t) => {
  describe("functionality", () => {
    it("keeps trails, shadows, tags, selectors, insights and logging state over a restart", async () => {
      await makeTrail(t, "logging-trail", { TagsList: [{ Key: "team", Value: "a" }, { Key: "bare" }] });
      await t.api.startLogging({ Name: "logging-trail" });
      await makeTrail(t, "stopped-trail", { S3KeyPrefix: "p", KmsKeyId: "alias/k", SnsTopicName: "topic" });
      await t.api.startLogging({ Name: "stopped-trail" });
      await t.api.stopLogging({ Name: "stopped-trail" });
      await t.api.putEventSelectors({
        TrailName: "stopped-trail",
        AdvancedEventSelectors: [
          { Name: "mgmt", FieldSelectors: [{ Field: "eventCategory", Equals: ["Management"] }] },
        ],
      });
      await t.api.putInsightSelectors({
        TrailName: "stopped-trail",
        InsightSelectors: [{ InsightType: "ApiCallRateInsight" }],
      });
      await makeTrail(
        t,
        "global-trail",
        { IsMultiRegionTrail: true, EnableLogFileValidation: true },
        t.apiIn(OTHER_REGION),
      );
      await t.apiIn(OTHER_REGION).putEventSelectors({
        TrailName: "global-trail",
        EventSelectors: [
          { ReadWriteType: "WriteOnly", ExcludeManagementEventSources: ["kms.amazonaws.com"] },
        ],
      });
      await makeTrail(
        t,
        "logging-trail",
        { TagsList: [{ Key: "owner", Value: "b" }] },
        t.apiAs(OTHER_ACCOUNT),
      );

      const before = await snapshot(t);
      await t.restart();
      const after = await snapshot(t);

      expect(after).toStrictEqual(before);
      expect(after.home.map((x) => x.trail.Name)).toEqual(["logging-trail", "stopped-trail", "global-trail"]);
      expect(after.home[0]?.status.IsLogging).toBe(true);
      expect(after.home[1]?.status.StopLoggingTime).toBeInstanceOf(Date);
    });

    it("keeps counting the quota and the taken names after a restart", async () => {
      for (let i = 0; i < 5; i++) await makeTrail(t, `trail-${i}`);
      await t.restart();
      await expectError(
        t.api.createTrail({ Name: "trail-5", S3BucketName: BUCKET }),
        "MaximumNumberOfTrailsExceededException",
        tooManyTrails(REGION),
      );
      await t.api.deleteTrail({ Name: arnOf("trail-0") });
      await expectError(
        t.api.createTrail({ Name: "trail-1", S3BucketName: BUCKET }),
        "TrailAlreadyExistsException",
        alreadyExists("trail-1"),
      );
      const answer = await t.api.createTrail({ Name: "trail-5", S3BucketName: BUCKET });
      expect(answer.TrailARN).toBe(arnOf("trail-5"));
    });
  });
});
