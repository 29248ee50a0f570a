import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { csvCell, toCsv, toRow } from "../../src/console/events.ts";
import { startTestServer, type TestServer } from "../support/server.ts";

/** The console's JSON API over HTTP: sessions, CSRF, the checks on its inputs, the download's cells. */

const KEY = { accessKeyId: "AKIACONSOLE000000001", secretAccessKey: "s3cret" };

// biome-ignore lint/suspicious/noExplicitAny: the console's JSON answers, read field by field
const json = async (res: Response): Promise<any> => res.json();

function cookieOf(res: Response): string {
  return res.headers
    .getSetCookie()
    .map((c) => c.split(";")[0]!)
    .filter((c) => !c.endsWith("="))
    .join("; ");
}

describe("console API with configured credentials", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({
      credentials: [{ ...KEY, accountId: "333333333333", type: "IAMUser", userName: "carol" }],
      development: false,
    });
  });
  afterAll(() => server.close());

  const signIn = (body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${server.url}/console/api/sign-in`, {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body: JSON.stringify(body),
    });

  it("serves the page with a strict content security policy, and /console redirects to it", async () => {
    const page = await fetch(`${server.url}/console/`);
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toContain("text/html");
    expect(page.headers.get("content-security-policy")).toContain("script-src 'self'");
    expect(await page.text()).toContain('<script src="/console/app.js"></script>');
    const bare = await fetch(`${server.url}/console`, { redirect: "manual" });
    expect(bare.status).toBe(302);
    expect(bare.headers.get("location")).toBe("/console/");
  });

  it("is signed out until a key signs in, and refuses a wrong secret", async () => {
    expect(await (await fetch(`${server.url}/console/api/session`)).json()).toEqual({
      signedIn: false,
      development: false,
    });
    const events = await fetch(`${server.url}/console/api/events`);
    expect(events.status).toBe(401);
    const wrong = await signIn({ ...KEY, secretAccessKey: "nope" });
    expect(wrong.status).toBe(401);
    expect((await json(wrong)).error.code).toBe("InvalidCredentials");
  });

  it("takes a sign-in only as JSON from its own origin", async () => {
    const form = await fetch(`${server.url}/console/api/sign-in`, {
      method: "POST",
      headers: { "content-type": "text/plain" },
      body: JSON.stringify(KEY),
    });
    expect(form.status).toBe(403);
    const foreign = await signIn(KEY, { origin: "http://evil.example" });
    expect(foreign.status).toBe(403);
  });

  it("opens a session with an HttpOnly, SameSite=Strict cookie, and signs out only with its CSRF token", async () => {
    const res = await signIn(KEY);
    expect(res.status).toBe(200);
    const session = await json(res);
    expect(session).toMatchObject({ signedIn: true, accountId: "333333333333", user: "carol" });
    const setCookie = res.headers.getSetCookie().find((c) => c.startsWith("ot_console="))!;
    expect(setCookie).toContain("HttpOnly");
    expect(setCookie).toContain("SameSite=Strict");
    expect(setCookie).toContain("Path=/console");
    expect(setCookie).not.toContain("Secure");
    const cookie = cookieOf(res);

    const events = await fetch(`${server.url}/console/api/events?region=us-east-1`, { headers: { cookie } });
    expect(events.status).toBe(200);
    expect(await events.json()).toMatchObject({ events: [], nextToken: null });

    const noToken = await fetch(`${server.url}/console/api/sign-out`, {
      method: "POST",
      headers: { cookie, "content-type": "application/json" },
      body: "{}",
    });
    expect(noToken.status).toBe(403);
    const out = await fetch(`${server.url}/console/api/sign-out`, {
      method: "POST",
      headers: { cookie, "content-type": "application/json", "x-csrf-token": session.csrf },
      body: "{}",
    });
    expect(out.status).toBe(200);
    const after = await fetch(`${server.url}/console/api/events`, { headers: { cookie } });
    expect(after.status).toBe(401);
  });

  it("gives the Insights chart its API's per-minute series around an Insight", async () => {
    const cookie = cookieOf(await signIn(KEY));
    const end = new Date();
    const start = new Date(end.getTime() - 10 * 60_000);
    const q = new URLSearchParams({
      eventSource: "cloudtrail.amazonaws.com",
      eventName: "UpdateTrail",
      insightType: "ApiCallRateInsight",
      start: start.toISOString(),
      end: end.toISOString(),
    });
    const res = await fetch(`${server.url}/console/api/insight-metrics?${q}`, { headers: { cookie } });
    expect(res.status).toBe(200);
    const series = await json(res);
    // an hour before the start to a quarter of an hour after the end, one value a minute
    expect(series.timestamps.length).toBeGreaterThanOrEqual(80);
    expect(series.values).toHaveLength(series.timestamps.length);
    expect(series.values.every((v: number) => v === 0)).toBe(true);
    const bad = await fetch(`${server.url}/console/api/insight-metrics?insightType=Nope`, {
      headers: { cookie },
    });
    expect(bad.status).toBe(400);
  });

  it("answers a region the server does not serve and an unknown lookup attribute with an error", async () => {
    const cookie = cookieOf(await signIn(KEY));
    const region = await fetch(`${server.url}/console/api/events?region=mars-1`, { headers: { cookie } });
    expect(region.status).toBe(400);
    expect((await json(region)).error.code).toBe("InvalidRegion");
    const attr = await fetch(`${server.url}/console/api/events?key=Nope&value=x`, { headers: { cookie } });
    expect(attr.status).toBe(400);
    expect((await json(attr)).error.code).toBe("InvalidLookupAttributesException");
    const time = await fetch(`${server.url}/console/api/events?start=yesterday`, { headers: { cookie } });
    expect(time.status).toBe(400);
  });
});

describe("console API in development mode", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server.close());

  it("signs a visitor in as the development user, and not again straight after a sign-out", async () => {
    const res = await fetch(`${server.url}/console/api/session`);
    const session = await json(res);
    expect(session).toMatchObject({ signedIn: true, accountId: "123456789012", user: "test" });
    const out = await fetch(`${server.url}/console/api/sign-out`, {
      method: "POST",
      headers: { cookie: cookieOf(res), "content-type": "application/json", "x-csrf-token": session.csrf },
      body: "{}",
    });
    expect(out.status).toBe(200);
    const again = await fetch(`${server.url}/console/api/session`, { headers: { cookie: cookieOf(out) } });
    expect(await again.json()).toEqual({ signedIn: false, development: true });
  });
});

describe("the download's cells", () => {
  it("keeps a cell a spreadsheet would run as a formula as text", () => {
    for (const cell of ["=SUM(A1)", "+1", "-1", "@cmd", "\tx"])
      expect(csvCell(cell).replace(/^"/, "")).toMatch(/^'/);
    expect(csvCell("plain")).toBe("plain");
    expect(csvCell('a,"b"')).toBe('"a,""b"""');
    expect(csvCell("=1,2")).toBe(`"'=1,2"`);
  });

  it("writes one row per event with the columns of the page", () => {
    const row = toRow({
      EventId: "e-1",
      EventName: "=HYPERLINK()",
      EventTime: new Date("2026-12-01T00:00:00Z"),
      Username: "alice",
      EventSource: "cloudtrail.amazonaws.com",
      Resources: [{ ResourceType: "AWS::CloudTrail::Trail", ResourceName: "t" }],
      CloudTrailEvent: JSON.stringify({
        errorCode: "AccessDenied",
        awsRegion: "eu-west-1",
        sourceIPAddress: "10.0.0.1",
      }),
    });
    const lines = toCsv([row]).trimEnd().split("\r\n");
    expect(lines[1]).toBe(
      "'=HYPERLINK(),2026-12-01T00:00:00.000Z,alice,cloudtrail.amazonaws.com,AWS::CloudTrail::Trail,t,AccessDenied,eu-west-1,10.0.0.1,,,e-1",
    );
  });
});
