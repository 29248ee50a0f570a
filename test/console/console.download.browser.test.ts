import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import type { Browser, Download, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ingestClient } from "../../src/client/ingest.ts";
import type { CredentialConfig } from "../../src/config/credentials.ts";
import { haveBrowser, launchChromium } from "../support/browser.ts";
import { startTestServer, type TestServer } from "../support/server.ts";

/**
 * The console's download under LookupEvents' rate (one call a second here; AWS allows two): the
 * page asks page after page and, refused with ThrottlingException, waits and asks again, so the
 * file holds every event of the filter once and in order; another error mid-way stops it with a
 * message in the page and no file. The server runs on a clock the test steps, so a call goes
 * through only when the test has given the bucket a second: which call is refused is fixed.
 */

const REGION = "us-east-1";
const T0 = Math.floor(Date.now() / 1000) * 1000;
/** Four pages of 50. */
const EVENTS = 175;
/** Cells a spreadsheet would run as formulas, as user names. */
const USERS = ["erin", "=cmd|' /C calc'!A0", "+1", "-1", "@SUM(A1)"];

const ERIN: CredentialConfig = {
  accessKeyId: "AKIAERIN000000000001",
  secretAccessKey: "erin-secret",
  accountId: "555555555555",
  type: "IAMUser",
  userName: "erin",
};

/** A write call, one second older than the one before: event history lists the newest first. */
function createUser(i: number): Record<string, unknown> {
  const user = USERS[i % USERS.length]!;
  return {
    eventVersion: "1.08",
    userIdentity: {
      type: "IAMUser",
      principalId: "AIDAEXAMPLE",
      arn: `arn:aws:iam::${ERIN.accountId}:user/erin`,
      accountId: ERIN.accountId,
      userName: user,
    },
    eventTime: `${new Date(T0 - (i + 1) * 1000).toISOString().slice(0, 19)}Z`,
    eventSource: "iam.amazonaws.com",
    eventName: "CreateUser",
    awsRegion: REGION,
    sourceIPAddress: "192.0.2.1",
    userAgent: "aws-cli/2.15.0",
    requestParameters: { userName: `u-${i}` },
    responseElements: null,
    requestID: randomUUID(),
    eventID: randomUUID(),
    readOnly: false,
    eventType: "AwsApiCall",
    managementEvent: true,
    recipientAccountId: ERIN.accountId,
    eventCategory: "Management",
  };
}

describe.skipIf(!haveBrowser)("console download under the LookupEvents rate", () => {
  let server: TestServer;
  let browser: Browser;
  let now = T0;
  const records = Array.from({ length: EVENTS }, (_, i) => createUser(i));

  beforeAll(async () => {
    server = await startTestServer(
      { credentials: [ERIN], development: false, ingestWorkers: 0, lookupEventsRate: 1 },
      { clock: { now: () => new Date(now) } },
    );
    await ingestClient({
      endpoint: server.url,
      credentials: { accessKeyId: ERIN.accessKeyId, secretAccessKey: ERIN.secretAccessKey },
      signingDate: () => new Date(now),
    }).send(records);
    browser = await launchChromium();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  /** Steps the server's clock a second at a time (one more LookupEvents call each) until `count` files are saved. */
  async function stepClockUntilSaved(downloads: Download[], count: number): Promise<void> {
    await expect
      .poll(
        () => {
          now += 1000;
          return downloads.length;
        },
        { interval: 250, timeout: 60_000 },
      )
      .toBe(count);
  }

  /** A page signed in as Erin, showing the first page of the default filter, and its downloads. */
  async function eventHistory(): Promise<{ page: Page; downloads: Download[] }> {
    const context = await browser.newContext({ acceptDownloads: true });
    const page = await context.newPage();
    const downloads: Download[] = [];
    page.on("download", (d) => downloads.push(d));
    await page.goto(`${server.url}/console/`);
    await page.getByLabel("Access key ID").fill(ERIN.accessKeyId);
    await page.getByLabel("Secret access key").fill(ERIN.secretAccessKey);
    await page.getByRole("button", { name: "Sign in" }).click();
    // the table's LookupEvents takes the bucket's one call
    await expect.poll(() => page.locator("#events tbody tr").count(), { timeout: 30_000 }).toBe(50);
    return { page, downloads };
  }

  it("downloads every event of many pages once and in order, waiting whenever it is throttled", async () => {
    const { page, downloads } = await eventHistory();
    const status = page.getByRole("status");
    await page.getByRole("button", { name: "Download CSV" }).click();
    // the server's clock has not moved since the table's call: the first page is refused
    await expect.poll(() => status.textContent(), { timeout: 30_000 }).toContain("LookupEvents is throttled");
    expect(await page.getByRole("button", { name: "Download CSV" }).isDisabled()).toBe(true);
    // each step of the clock lets one more call through
    await stepClockUntilSaved(downloads, 1);
    const download = downloads[0]!;
    expect(download.suggestedFilename()).toBe(`event-history-${REGION}.csv`);
    const lines = readFileSync((await download.path())!, "utf8").split("\r\n");
    expect(lines.pop()).toBe("");
    expect(lines[0]).toBe(
      "Event name,Event time,User name,Event source,Resource type,Resource name,Error code,AWS region,Source IP address,AWS access key,Read-only,Event ID",
    );
    const ids = lines.slice(1).map((line) => line.slice(line.lastIndexOf(",") + 1));
    expect(ids).toEqual(records.map((r) => r.eventID));

    // the formulas stay text
    const users = lines.slice(1).map((line) => line.split(",")[2]);
    expect(users.slice(0, USERS.length)).toEqual(["erin", "'=cmd|' /C calc'!A0", "'+1", "'-1", "'@SUM(A1)"]);
    for (const line of lines) expect(line.split(",").some((cell) => /^[=+\-@]/.test(cell))).toBe(false);

    const done = (await status.textContent()) ?? "";
    expect(done).toContain(`Downloaded ${EVENTS} events (4 pages) as event-history-${REGION}.csv.`);
    expect(done).toMatch(/LookupEvents was throttled \d+ times?; the download waited and asked again\./);
    expect(await page.getByRole("button", { name: "Download CSV" }).isEnabled()).toBe(true);
    await page.context().close();
  });

  it("stops at an error that is not throttling with a message in the page, and saves no file", async () => {
    now += 1000; // the table's call
    const { page, downloads } = await eventHistory();
    const status = page.getByRole("status");
    // from the keyboard
    await page.getByRole("button", { name: "Download JSON" }).focus();
    await page.keyboard.press("Enter");
    await expect
      .poll(() => status.textContent(), { timeout: 30_000 })
      .toContain("0 events so far. LookupEvents is throttled");
    now += 1000; // the first page goes through, the second is refused
    await expect
      .poll(() => status.textContent(), { timeout: 30_000 })
      .toContain("50 events so far. LookupEvents is throttled");

    // the session ends in another tab while the download waits for its second page
    const other = await page.context().newPage();
    await other.goto(`${server.url}/console/`);
    await other.getByRole("button", { name: "Sign out" }).click();
    await expect
      .poll(() => other.getByRole("button", { name: "Sign in" }).count(), { timeout: 30_000 })
      .toBe(1);

    const alert = page.getByRole("alert");
    await expect.poll(() => alert.count(), { timeout: 30_000 }).toBe(1);
    expect(await alert.textContent()).toBe(
      "The download stopped after 50 events and no file was saved: Sign in to use the console. (NotSignedIn)",
    );
    expect(await status.textContent()).toBe("");
    expect(downloads).toHaveLength(0);
    expect(await page.getByRole("button", { name: "Download JSON" }).isEnabled()).toBe(true);
    expect(await page.getByRole("button", { name: "Cancel download" }).count()).toBe(0);
    await page.context().close();
  });

  it("cancels a download from the keyboard, and the next one is whole", async () => {
    now += 1000; // the table's call
    const { page, downloads } = await eventHistory();
    const status = page.getByRole("status");
    await page.getByRole("button", { name: "Download JSON" }).click();
    await expect
      .poll(() => status.textContent(), { timeout: 30_000 })
      .toContain("0 events so far. LookupEvents is throttled");
    await page.getByRole("button", { name: "Cancel download" }).focus();
    await page.keyboard.press("Enter");
    expect(await status.textContent()).toBe("Download cancelled; no file was saved.");
    // the keyboard's place goes to the first download button, not to the page's top
    expect(await page.evaluate("document.activeElement.id")).toBe("download-csv");

    await page.keyboard.press("Enter");
    await stepClockUntilSaved(downloads, 1);
    // the JSON download that was cancelled never saved a file
    expect(downloads[0]!.suggestedFilename()).toBe(`event-history-${REGION}.csv`);
    const lines = readFileSync((await downloads[0]!.path())!, "utf8")
      .trimEnd()
      .split("\r\n");
    expect(lines.slice(1).map((line) => line.slice(line.lastIndexOf(",") + 1))).toEqual(
      records.map((r) => r.eventID),
    );
    await page.context().close();
  });
});
