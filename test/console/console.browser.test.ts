import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { httpClient } from "../../src/client/http.ts";
import type { CredentialConfig } from "../../src/config/credentials.ts";
import { haveBrowser, launchChromium } from "../support/browser.ts";
import { startTestServer, type TestServer } from "../support/server.ts";

/**
 * The console end to end in Debian's Chromium, driven by playwright-core: sign in, filter, page,
 * open and compare records, download CSV and JSON (the files the server's export writes), watch
 * a trail stop logging, sign out, and a second account that sees nothing of the first. It takes
 * the README's screenshots as it goes.
 */

const SCREENSHOTS = join(import.meta.dirname, "..", "..", "docs", "screenshots");

const ALICE: CredentialConfig = {
  accessKeyId: "AKIAALICE00000000001",
  secretAccessKey: "alice-secret",
  accountId: "111111111111",
  type: "IAMUser",
  userName: "alice",
};
const BOB: CredentialConfig = {
  accessKeyId: "AKIABOB0000000000002",
  secretAccessKey: "bob-secret",
  accountId: "222222222222",
  type: "IAMUser",
  userName: "bob",
};
const UPDATES = 55;
/** CreateTrail, StartLogging and the UpdateTrail calls: the write events the default filter shows. */
const WRITE_EVENTS = UPDATES + 2;

// CI installs Chromium (.ci/run), so there a missing browser fails instead of skipping
describe.skipIf(!haveBrowser)("console in a real browser", () => {
  let server: TestServer;
  let browser: Browser;
  const alice = () =>
    httpClient({
      endpoint: server.url,
      credentials: { accessKeyId: ALICE.accessKeyId, secretAccessKey: ALICE.secretAccessKey },
    });

  beforeAll(async () => {
    server = await startTestServer({ credentials: [ALICE, BOB], development: false });
    server.createBucket("console-bucket");
    const api = alice();
    await api.createTrail({ Name: "console-trail", S3BucketName: "console-bucket" });
    await api.startLogging({ Name: "console-trail" });
    for (let i = 0; i < UPDATES; i++) {
      await api.updateTrail({ Name: "console-trail", IncludeGlobalServiceEvents: i % 2 === 0 });
    }
    api.client.destroy();
    browser = await launchChromium();
    mkdirSync(SCREENSHOTS, { recursive: true });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  async function signIn(page: Page, who: CredentialConfig): Promise<void> {
    await page.goto(`${server.url}/console/`);
    await page.getByLabel("Access key ID").fill(who.accessKeyId);
    await page.getByLabel("Secret access key").fill(who.secretAccessKey);
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect.poll(() => page.locator("#who").textContent()).toContain(who.accountId);
  }

  const rows = (page: Page) => page.locator("#events tbody tr");

  it("refuses a wrong secret and signs in with the right one", async () => {
    const page = await browser.newPage();
    await page.goto(`${server.url}/console/`);
    await page.getByLabel("Access key ID").fill(ALICE.accessKeyId);
    await page.getByLabel("Secret access key").fill("not-the-secret");
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect.poll(() => page.locator("#sign-in-message").textContent()).toContain("not right");
    await signIn(page, ALICE);
    const cookies = await page.context().cookies();
    const session = cookies.find((c) => c.name === "ot_console");
    expect(session).toMatchObject({ httpOnly: true, sameSite: "Strict", path: "/console" });
    await page.close();
  });

  it("filters, pages, opens and compares records, and downloads the filter as CSV", async () => {
    const context = await browser.newContext({
      acceptDownloads: true,
      viewport: { width: 1280, height: 900 },
    });
    const page = await context.newPage();
    await signIn(page, ALICE);

    // the default filter is Read-only = false: the write calls, 50 a page
    await expect.poll(() => rows(page).count()).toBe(50);
    const headers = await page.locator("#events thead th").allTextContents();
    expect(headers).toEqual([
      "Select",
      "Event name",
      "Event time",
      "User name",
      "Event source",
      "Resource type",
      "Resource name",
    ]);
    const drawMs = await page.locator("#events-table").getAttribute("data-draw-ms");
    console.log(`console: a page of 50 events drawn in ${drawMs} ms after the answer`);
    await page.screenshot({ path: join(SCREENSHOTS, "event-history.png") });
    await page.getByRole("button", { name: "Next page" }).click();
    await expect.poll(() => rows(page).count()).toBe(WRITE_EVENTS - 50);
    await page.getByRole("button", { name: "Previous page" }).click();
    await expect.poll(() => rows(page).count()).toBe(50);

    // one lookup attribute
    await page.getByLabel("Lookup attribute").selectOption("EventName");
    await page.getByLabel("Value").fill("StartLogging");
    await page.getByRole("button", { name: "Apply filter" }).click();
    await expect.poll(() => rows(page).count()).toBe(1);
    await page.locator("button.open-event").first().click();
    const record = JSON.parse((await page.locator("#detail-json").textContent()) ?? "{}");
    expect(record).toMatchObject({
      eventName: "StartLogging",
      eventSource: "cloudtrail.amazonaws.com",
      recipientAccountId: ALICE.accountId,
    });
    await page.getByRole("button", { name: "Close" }).click();

    // compare two
    await page.getByLabel("Value").fill("UpdateTrail");
    await page.getByRole("button", { name: "Apply filter" }).click();
    await expect.poll(() => rows(page).count()).toBe(50);
    await page.locator("input.select-event").nth(0).check();
    await page.locator("input.select-event").nth(1).check();
    await page.getByRole("button", { name: "Compare selected" }).click();
    await expect.poll(() => page.locator("#compare-grid .compare-column").count()).toBe(2);
    const differs = await page.locator("#comparison p.muted").textContent();
    expect(differs).toContain("eventID");
    expect(differs).not.toContain("eventName");

    // the download holds every event of the filter, not only the page shown
    const [download] = await Promise.all([
      page.waitForEvent("download"),
      page.locator("#download-csv").click(),
    ]);
    const file = readFileSync((await download.path())!, "utf8");
    // the page writes the file itself; it is what the server's own export of the filter writes
    const exported = await context.request.get(
      `${server.url}/console/api/events.csv?region=us-east-1&key=EventName&value=UpdateTrail`,
    );
    expect(await exported.text()).toBe(file);
    const csv = file.trimEnd().split("\r\n");
    expect(csv[0]).toBe(
      "Event name,Event time,User name,Event source,Resource type,Resource name,Error code,AWS region,Source IP address,AWS access key,Read-only,Event ID",
    );
    expect(csv).toHaveLength(UPDATES + 1);
    expect(csv.slice(1).every((line) => line.startsWith("UpdateTrail,"))).toBe(true);
    const [json] = await Promise.all([page.waitForEvent("download"), page.locator("#download-json").click()]);
    expect(json.suggestedFilename()).toBe("event-history-us-east-1.json");
    const records = await context.request.get(
      `${server.url}/console/api/events.json?region=us-east-1&key=EventName&value=UpdateTrail`,
    );
    expect(readFileSync((await json.path())!, "utf8")).toBe(await records.text());
    await context.close();
  });

  it("shows a trail's status, and its change after StopLogging", async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await signIn(page, ALICE);
    await page.getByRole("link", { name: "Trails" }).click();
    const logging = page.locator('article[data-trail="console-trail"] [data-field="logging"]');
    await expect.poll(() => logging.textContent()).toBe("Logging");
    await page.screenshot({ path: join(SCREENSHOTS, "trails.png") });
    const api = alice();
    await api.stopLogging({ Name: "console-trail" });
    api.client.destroy();
    await page.reload();
    await expect.poll(() => logging.textContent()).toBe("Not logging");
    await page.getByRole("link", { name: "Insights" }).click();
    // this account had no Insight (console.insights.browser.test.ts has one and its screenshot)
    await expect.poll(() => page.locator("#insights").textContent()).toContain("No Insights events");

    await page.getByRole("button", { name: "Sign out" }).click();
    await expect.poll(() => page.getByRole("button", { name: "Sign in" }).count()).toBe(1);
    await page.goto(`${server.url}/console/#events`);
    await expect.poll(() => page.getByRole("button", { name: "Sign in" }).count()).toBe(1);
    await page.close();
  });

  it("shows a second account nothing of the first", async () => {
    const page = await browser.newPage();
    await signIn(page, BOB);
    await expect.poll(() => page.locator("#no-events").count()).toBe(1);
    await page.getByRole("link", { name: "Trails" }).click();
    await expect.poll(() => page.locator("#trails").textContent()).toContain("No trails in this region.");
    await page.close();
  });

  it("records the console's own calls as console calls", async () => {
    const api = alice();
    const { Events = [] } = await api.lookupEvents({
      LookupAttributes: [{ AttributeKey: "EventName", AttributeValue: "DescribeTrails" }],
    });
    api.client.destroy();
    const fromConsole = Events.map((e) => JSON.parse(e.CloudTrailEvent ?? "{}")).filter(
      (r) => r.sessionCredentialFromConsole === "true",
    );
    expect(fromConsole.length).toBeGreaterThan(0);
    expect(fromConsole[0]).toMatchObject({
      userIdentity: { type: "IAMUser", userName: "alice", accessKeyId: ALICE.accessKeyId },
      sourceIPAddress: "127.0.0.1",
    });
    expect(fromConsole[0].userAgent).toContain("Chrome");
  });
});
