import { expect, it } from "vitest";
import type { CloudTrailApi } from "../../src/api/index.ts";
import { arnOf, homeRegionOnly, makeTrail, OTHER_REGION, unknownTrail } from "./fixtures.ts";
import { ACCOUNT, expectError, OTHER_ACCOUNT, type Target } from "./harness.ts";

/**
 * The name-or-ARN resolution table (wire-protocol.md §7) for one operation: a name finds only
 * trails homed in the current region; an ARN also finds a shadow, which writes refuse with
 * InvalidHomeRegionException; another account's trails do not exist.
 */
export function resolutionTable(
  t: Target,
  access: "read" | "write",
  call: (api: CloudTrailApi, nameOrArn: string) => Promise<unknown>,
  unknownName: "as-arn" | "as-given" = "as-arn",
) {
  /** How the operation names a trail asked for by a bare name that it cannot find (errors.md). */
  const shown = (name: string, region?: string, account?: string) =>
    unknownName === "as-given" ? name : arnOf(name, region, account);

  it("finds a trail of the current region by name", async () => {
    await makeTrail(t, "home-trail");
    await expect(call(t.api, "home-trail")).resolves.toBeDefined();
  });

  it("finds a trail of the current region by ARN", async () => {
    await makeTrail(t, "home-trail");
    await expect(call(t.api, arnOf("home-trail"))).resolves.toBeDefined();
  });

  const naming = unknownName === "as-given" ? "as given" : "as an ARN of the current region";
  it(`answers TrailNotFoundException for an unknown name, naming it ${naming}`, async () => {
    await expectError(
      call(t.api, "no-such-trail"),
      "TrailNotFoundException",
      unknownTrail(shown("no-such-trail")),
    );
    await expectError(
      call(t.apiIn(OTHER_REGION), "no-such-trail"),
      "TrailNotFoundException",
      unknownTrail(shown("no-such-trail", OTHER_REGION)),
    );
  });

  it("answers TrailNotFoundException for an unknown ARN, naming that ARN", async () => {
    const arn = arnOf("no-such-trail");
    await expectError(call(t.api, arn), "TrailNotFoundException", unknownTrail(arn));
  });

  it("answers TrailNotFoundException for an ARN of a region the server does not serve", async () => {
    const arn = arnOf("home-trail", "mars-north-1");
    await makeTrail(t, "home-trail");
    await expectError(call(t.api, arn), "TrailNotFoundException", unknownTrail(arn));
  });

  it("does not find a multi-Region trail homed elsewhere by name", async () => {
    await makeTrail(t, "global-trail", { IsMultiRegionTrail: true }, t.apiIn(OTHER_REGION));
    await expectError(
      call(t.api, "global-trail"),
      "TrailNotFoundException",
      unknownTrail(shown("global-trail")),
    );
  });

  if (access === "read") {
    it("reaches the shadow of a multi-Region trail by its ARN", async () => {
      await makeTrail(t, "global-trail", { IsMultiRegionTrail: true }, t.apiIn(OTHER_REGION));
      await expect(call(t.api, arnOf("global-trail", OTHER_REGION))).resolves.toBeDefined();
    });

    it("does not find a single-Region trail of another region by ARN", async () => {
      const arn = arnOf("west-trail", OTHER_REGION);
      await makeTrail(t, "west-trail", {}, t.apiIn(OTHER_REGION));
      await expectError(call(t.api, arn), "TrailNotFoundException", unknownTrail(arn));
    });
  } else {
    it("refuses the shadow of a multi-Region trail with InvalidHomeRegionException", async () => {
      await makeTrail(t, "global-trail", { IsMultiRegionTrail: true }, t.apiIn(OTHER_REGION));
      await expectError(
        call(t.api, arnOf("global-trail", OTHER_REGION)),
        "InvalidHomeRegionException",
        homeRegionOnly(OTHER_REGION),
      );
    });

    it("refuses a single-Region trail of another region by ARN with InvalidHomeRegionException", async () => {
      await makeTrail(t, "west-trail", {}, t.apiIn(OTHER_REGION));
      await expectError(
        call(t.api, arnOf("west-trail", OTHER_REGION)),
        "InvalidHomeRegionException",
        homeRegionOnly(OTHER_REGION),
      );
    });
  }

  it("does not let another account reach the trail, by name or by ARN", async () => {
    await makeTrail(t, "private-trail");
    const other = t.apiAs(OTHER_ACCOUNT);
    const arn = arnOf("private-trail");
    await expectError(call(other, arn), "TrailNotFoundException", unknownTrail(arn, OTHER_ACCOUNT));
    await expectError(
      call(other, "private-trail"),
      "TrailNotFoundException",
      unknownTrail(shown("private-trail", undefined, OTHER_ACCOUNT), OTHER_ACCOUNT),
    );
    const trail = await t.api.getTrail({ Name: "private-trail" });
    expect(trail.Trail?.TrailARN).toBe(arn);
  });

  it("keeps same-named trails of two accounts apart", async () => {
    await makeTrail(t, "shared-name");
    await makeTrail(t, "shared-name", {}, t.apiAs(OTHER_ACCOUNT));
    await expect(call(t.apiAs(OTHER_ACCOUNT), "shared-name")).resolves.toBeDefined();
    await expect(call(t.api, arnOf("shared-name", undefined, ACCOUNT))).resolves.toBeDefined();
  });
}
