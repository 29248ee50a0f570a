import { randomUUID } from "node:crypto";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { httpClient } from "../../src/client/http.ts";
import { ingestClient } from "../../src/client/ingest.ts";
import type { CredentialConfig } from "../../src/config/credentials.ts";
import { haveBrowser, launchChromium } from "../support/browser.ts";
import { KNOBS } from "../support/insights.ts";
import { startTestServer, type TestServer } from "../support/server.ts";

/**
 * The Insights page with a real Insight: records ingested as a burst after a baseline, the
 * Insights worker drained on a stepped clock, then the page in Chromium lists the Insight and
 * draws its call rate from ListInsightsMetricData against the baseline. It takes the README's
 * Insights screenshot. The clock starts 14 minutes before real time so that the clients'
 * signatures (at real time) stay within the allowed skew.
 */

const SCREENSHOTS = join(import.meta.dirname, "..", "..", "docs", "screenshots");
const MINUTE = 60_000;
const T0 = Math.floor(Date.now() / MINUTE) * MINUTE - 14 * MINUTE;
const REGION = "us-east-1";
const iso = (ms: number) => `${new Date(ms).toISOString().slice(0, 19)}Z`;

const DANA: CredentialConfig = {
  accessKeyId: "AKIADANA000000000001",
  secretAccessKey: "dana-secret",
  accountId: "444444444444",
  type: "IAMUser",
  userName: "dana",
};

function createUser(minute: number, n: number): Record<string, unknown> {
  const user = minute < 10 ? "carol" : "mallory";
  return {
    eventVersion: "1.08",
    userIdentity: {
      type: "IAMUser",
      principalId: "AIDAEXAMPLE",
      arn: `arn:aws:iam::${DANA.accountId}:user/${user}`,
      accountId: DANA.accountId,
      userName: user,
    },
    eventTime: iso(T0 + minute * MINUTE + n * 1000),
    eventSource: "iam.amazonaws.com",
    eventName: "CreateUser",
    awsRegion: REGION,
    sourceIPAddress: "192.0.2.1",
    userAgent: "aws-cli/2.15.0",
    requestParameters: { userName: `u-${minute}-${n}` },
    responseElements: null,
    requestID: randomUUID(),
    eventID: randomUUID(),
    readOnly: false,
    eventType: "AwsApiCall",
    managementEvent: true,
    recipientAccountId: DANA.accountId,
    eventCategory: "Management",
  };
}

describe.skipIf(!haveBrowser)("console Insights page", () => {
  let server: TestServer;
  let browser: Browser;
  let now = T0;

  beforeAll(async () => {
    server = await startTestServer(
      { credentials: [DANA], development: false, ingestWorkers: 0, insights: KNOBS },
      { clock: { now: () => new Date(now) } },
    );
    server.createBucket("insights-bucket");
    const api = httpClient({
      endpoint: server.url,
      credentials: { accessKeyId: DANA.accessKeyId, secretAccessKey: DANA.secretAccessKey },
    });
    await api.createTrail({ Name: "insights-trail", S3BucketName: "insights-bucket" });
    await api.startLogging({ Name: "insights-trail" });
    await api.putInsightSelectors({
      TrailName: "insights-trail",
      InsightSelectors: [{ InsightType: "ApiCallRateInsight" }],
    });
    api.client.destroy();
    await server.app.insights!.drain();
    // one CreateUser a minute for ten minutes, then twenty a minute for two
    const records: Record<string, unknown>[] = [];
    for (let m = 0; m < 10; m++) records.push(createUser(m, 0));
    for (const m of [10, 11]) for (let n = 0; n < 20; n++) records.push(createUser(m, n));
    await ingestClient({
      endpoint: server.url,
      credentials: { accessKeyId: DANA.accessKeyId, secretAccessKey: DANA.secretAccessKey },
      signingDate: () => new Date(now),
    }).send(records);
    now = T0 + 14 * MINUTE;
    await server.app.insights!.drain();
    browser = await launchChromium();
    mkdirSync(SCREENSHOTS, { recursive: true });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it("lists the Insight and draws its call rate against the baseline", async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(`${server.url}/console/#insights`);
    await page.getByLabel("Access key ID").fill(DANA.accessKeyId);
    await page.getByLabel("Secret access key").fill(DANA.secretAccessKey);
    await page.getByRole("button", { name: "Sign in" }).click();
    const article = page.locator("article.insight-event");
    await expect.poll(() => article.count()).toBe(1);
    expect(await article.locator("h3").textContent()).toBe(
      "iam.amazonaws.com CreateUser — ApiCallRateInsight (ended)",
    );
    const facts = await article.locator("dl").textContent();
    expect(facts).toContain(`Started${iso(T0 + 10 * MINUTE)}`);
    expect(facts).toContain(`Ended${iso(T0 + 12 * MINUTE)}`);

    // the series comes from ListInsightsMetricData: an hour before the start to a quarter after the end
    const series = article.locator("svg.chart polyline.series");
    await expect.poll(() => series.count()).toBe(1);
    const chart = article.locator("svg.chart");
    expect(await chart.getAttribute("aria-label")).toBe(
      "The calls per minute of CreateUser against its baseline average 1; during the Insight 20",
    );
    const points = ((await series.getAttribute("points")) ?? "")
      .split(" ")
      .map((p) => Number(p.split(",")[1]));
    // minutes [start - 60, end + 15): ListInsightsMetricData leaves out its EndTime
    const minutes = 60 + 2 + 15;
    expect(points).toHaveLength(minutes);
    // y grows downward: the two burst minutes are the highest, the baseline's minutes between
    const top = Math.min(...points);
    const first = 60 - 10;
    const highest = points.flatMap((y, i) => (y === top ? [i] : []));
    expect(highest).toEqual([first + 10, first + 11]);
    const zero = points[0]!;
    const baselineY = Number(await chart.locator("line.baseline").getAttribute("y1"));
    for (let m = 0; m < 10; m++) expect(points[first + m]).toBeCloseTo(baselineY, 5);
    expect(baselineY).toBeLessThan(zero);
    expect(await chart.locator("rect.insight").count()).toBe(1);
    await page.screenshot({ path: join(SCREENSHOTS, "insights.png") });
    await page.close();
  });
});
