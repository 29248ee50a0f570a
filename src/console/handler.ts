import { timingSafeEqual } from "node:crypto";
import type { LookupAttributeKey, LookupEventsCommandInput } from "@aws-sdk/client-cloudtrail";
import type { CallerFacts } from "../api/context.ts";
import { CloudTrailError } from "../api/errors.ts";
import type { CloudTrailApi } from "../api/operations.ts";
import { ASSETS } from "./assets.ts";
import { COLUMNS, type EventRow, LOOKUP_KEYS, toCsv, toJsonExport, toRow } from "./events.ts";
import { type ConsoleSession, createSessions, SESSION_TTL_MS } from "./sessions.ts";
import type { ConsoleBackend, ConsoleRequest, ConsoleResponse } from "./types.ts";

/**
 * The web console on the server's own port: a page served from the package and a small JSON API
 * under /console/api/ that calls CloudTrail as the signed-in principal. Reads are GETs carried by
 * a SameSite=Strict cookie; what changes a session needs a JSON body or the session's CSRF token
 * in a header, which a page of another site cannot send without a CORS preflight (never granted).
 */

export const CONSOLE_PREFIX = "/console";
const COOKIE = "ot_console";
/** Set at sign-out in development mode, so that the visitor is not signed straight back in. */
const SIGNED_OUT_COOKIE = "ot_console_out";
/** Events a download holds at most. */
export const EXPORT_MAX_EVENTS = 10_000;
const PAGE_SIZE = 50;
/** How far back the trails page lists delivered files. */
const DELIVERED_FILES_HOURS = 6;

const SECURITY_HEADERS = {
  "content-security-policy":
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "x-frame-options": "DENY",
};

class ConsoleFault extends Error {
  readonly status: number;
  readonly code: string;
  constructor(status: number, code: string, message: string) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

function json(status: number, value: unknown, headers: ConsoleResponse["headers"] = {}): ConsoleResponse {
  return {
    status,
    headers: {
      ...SECURITY_HEADERS,
      "content-type": "application/json; charset=utf-8",
      "cache-control": "no-store",
      ...headers,
    },
    body: JSON.stringify(value),
  };
}

function cookies(req: ConsoleRequest): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of (req.headers.cookie ?? "").split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0) out.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  return out;
}

function sessionCookie(req: ConsoleRequest, value: string, maxAgeSeconds: number): string {
  const secure = req.tls !== undefined ? "; Secure" : "";
  return `${COOKIE}=${value}; Path=${CONSOLE_PREFIX}; HttpOnly; SameSite=Strict; Max-Age=${maxAgeSeconds}${secure}`;
}

function signedOutCookie(req: ConsoleRequest, on: boolean): string {
  const secure = req.tls !== undefined ? "; Secure" : "";
  return `${SIGNED_OUT_COOKIE}=1; Path=${CONSOLE_PREFIX}; HttpOnly; SameSite=Strict; Max-Age=${on ? SESSION_TTL_MS / 1000 : 0}${secure}`;
}

function isJsonBody(req: ConsoleRequest): boolean {
  return (req.headers["content-type"] ?? "").split(";")[0]!.trim().toLowerCase() === "application/json";
}

/** An Origin header, when a browser sends one, must be this server's own. */
function sameOrigin(req: ConsoleRequest): boolean {
  const origin = req.headers.origin;
  if (origin === undefined) return true;
  const scheme = req.tls !== undefined ? "https" : "http";
  return origin === `${scheme}://${req.headers.host ?? ""}`;
}

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function sessionView(backend: ConsoleBackend, session: ConsoleSession) {
  const identity = session.principal.identity;
  const arn = typeof identity.arn === "string" ? identity.arn : "";
  const user =
    typeof identity.userName === "string" ? identity.userName : arn.slice(arn.lastIndexOf("/") + 1) || "root";
  return {
    signedIn: true,
    accountId: session.principal.accountId,
    user,
    arn,
    regions: backend.regions,
    csrf: session.csrf,
    columns: COLUMNS,
    lookupKeys: LOOKUP_KEYS,
    downloadMaxEvents: EXPORT_MAX_EVENTS,
  };
}

function parseTime(value: string | null, what: string): Date | undefined {
  if (value === null || value === "") return undefined;
  const date = new Date(value);
  if (Number.isNaN(date.getTime()))
    throw new ConsoleFault(400, "InvalidTimeRangeException", `${what} is not a time: ${value}`);
  return date;
}

/** LookupEvents' input from the page's query string: one attribute, a time range, a category. */
function lookupInput(query: URLSearchParams): LookupEventsCommandInput {
  const input: LookupEventsCommandInput = { MaxResults: PAGE_SIZE };
  const key = query.get("key");
  const value = query.get("value");
  if (key !== null && key !== "" && value !== null && value !== "") {
    if (!LOOKUP_KEYS.some((k) => k.key === key)) {
      throw new ConsoleFault(400, "InvalidLookupAttributesException", `Unknown lookup attribute: ${key}`);
    }
    input.LookupAttributes = [{ AttributeKey: key as LookupAttributeKey, AttributeValue: value }];
  }
  const start = parseTime(query.get("start"), "start");
  const end = parseTime(query.get("end"), "end");
  if (start !== undefined) input.StartTime = start;
  if (end !== undefined) input.EndTime = end;
  if (query.get("category") === "insight") input.EventCategory = "insight";
  const next = query.get("next");
  if (next !== null && next !== "") input.NextToken = next;
  return input;
}

async function exportRows(api: CloudTrailApi, query: URLSearchParams): Promise<EventRow[]> {
  const input = lookupInput(query);
  delete input.NextToken;
  const rows: EventRow[] = [];
  for (;;) {
    const page = await api.lookupEvents(input);
    for (const event of page.Events ?? []) {
      rows.push(toRow(event));
      if (rows.length >= EXPORT_MAX_EVENTS) return rows;
    }
    if (page.NextToken === undefined) return rows;
    input.NextToken = page.NextToken;
  }
}

async function trailsView(backend: ConsoleBackend, api: CloudTrailApi, region: string) {
  const { trailList = [] } = await api.describeTrails({ includeShadowTrails: true });
  const since = new Date(backend.now().getTime() - DELIVERED_FILES_HOURS * 3600_000);
  return Promise.all(
    trailList.map(async (trail) => {
      const arn = trail.TrailARN ?? "";
      const [status, selectors, insights, files] = await Promise.all([
        api.getTrailStatus({ Name: arn }),
        api.getEventSelectors({ TrailName: arn }),
        api.getInsightSelectors({ TrailName: arn }).catch(() => ({ InsightSelectors: [] })),
        backend.deliveredFiles(arn, region, since),
      ]);
      const { $metadata: _s, ...statusFields } = status as typeof status & { $metadata?: unknown };
      return {
        trail,
        status: statusFields,
        eventSelectors: selectors.EventSelectors ?? [],
        advancedEventSelectors: selectors.AdvancedEventSelectors ?? [],
        insightSelectors: insights.InsightSelectors ?? [],
        deliveredFiles: files.map((f) => ({ ...f, deliveredAt: f.deliveredAt.toISOString() })),
      };
    }),
  );
}

/** Minutes of the call or error rate the Insights page draws before an Insight starts. */
const CHART_LEAD_MINUTES = 60;
/** …and after it ends (or, while it lasts, up to now). */
const CHART_TAIL_MINUTES = 15;

/** The per-minute series of one Insight's API around it, from ListInsightsMetricData. */
async function insightMetrics(api: CloudTrailApi, query: URLSearchParams) {
  const insightType = query.get("insightType");
  if (insightType !== "ApiCallRateInsight" && insightType !== "ApiErrorRateInsight") {
    throw new ConsoleFault(
      400,
      "InvalidParameterException",
      "insightType is ApiCallRateInsight or ApiErrorRateInsight",
    );
  }
  const from = parseTime(query.get("start"), "start");
  const to = parseTime(query.get("end"), "end");
  if (from === undefined || to === undefined) {
    throw new ConsoleFault(400, "InvalidParameterException", "start and end are needed");
  }
  const errorCode = query.get("errorCode");
  const answer = await api.listInsightsMetricData({
    EventSource: query.get("eventSource") ?? "",
    EventName: query.get("eventName") ?? "",
    InsightType: insightType,
    ...(errorCode ? { ErrorCode: errorCode } : {}),
    StartTime: new Date(from.getTime() - CHART_LEAD_MINUTES * 60_000),
    EndTime: new Date(to.getTime() + CHART_TAIL_MINUTES * 60_000),
    Period: 60,
    DataType: "FillWithZeros",
  });
  return {
    timestamps: (answer.Timestamps ?? []).map((t) => t.toISOString()),
    values: answer.Values ?? [],
  };
}

function download(name: string, type: string, body: string): ConsoleResponse {
  return {
    status: 200,
    headers: {
      ...SECURITY_HEADERS,
      "content-type": type,
      "content-disposition": `attachment; filename="${name}"`,
      "cache-control": "no-store",
    },
    body,
  };
}

export function createConsole(backend: ConsoleBackend) {
  const sessions = createSessions(() => backend.now().getTime());

  function callerOf(req: ConsoleRequest): CallerFacts {
    return {
      sourceIPAddress: req.remoteAddress.replace(/^::ffff:/, ""),
      ...(req.headers["user-agent"] === undefined ? {} : { userAgent: req.headers["user-agent"] }),
      fromConsole: true,
    };
  }

  function signedIn(req: ConsoleRequest): ConsoleSession {
    const session = sessions.find(cookies(req).get(COOKIE));
    if (session === undefined) throw new ConsoleFault(401, "NotSignedIn", "Sign in to use the console.");
    return session;
  }

  function apiFor(req: ConsoleRequest, session: ConsoleSession, query: URLSearchParams) {
    const region = query.get("region") ?? backend.regions[0]!;
    if (!backend.regions.includes(region)) {
      throw new ConsoleFault(400, "InvalidRegion", `This server does not serve the region ${region}.`);
    }
    return { api: backend.api(session.principal, region, callerOf(req)), region };
  }

  function checkCsrf(req: ConsoleRequest, session: ConsoleSession): void {
    const sent = req.headers["x-csrf-token"] ?? "";
    if (!sameOrigin(req) || !sameText(sent, session.csrf)) {
      throw new ConsoleFault(403, "InvalidCsrfToken", "The request did not carry this session's token.");
    }
  }

  function openSession(req: ConsoleRequest, principal: ConsoleSession["principal"]): ConsoleResponse {
    const session = sessions.open(principal);
    const setCookie = [sessionCookie(req, session.id, SESSION_TTL_MS / 1000), signedOutCookie(req, false)];
    return json(200, sessionView(backend, session), { "set-cookie": setCookie });
  }

  async function session(req: ConsoleRequest): Promise<ConsoleResponse> {
    const found = sessions.find(cookies(req).get(COOKIE));
    if (found !== undefined) return json(200, sessionView(backend, found));
    const dev = backend.developmentPrincipal;
    if (dev !== undefined && !cookies(req).has(SIGNED_OUT_COOKIE)) return openSession(req, dev);
    return json(200, { signedIn: false, development: dev !== undefined });
  }

  async function signIn(req: ConsoleRequest): Promise<ConsoleResponse> {
    if (!isJsonBody(req) || !sameOrigin(req)) {
      throw new ConsoleFault(403, "InvalidRequest", "Sign in from the console's own page.");
    }
    let body: { accessKeyId?: unknown; secretAccessKey?: unknown; development?: unknown };
    try {
      body = JSON.parse(req.body.toString("utf8")) as typeof body;
    } catch {
      throw new ConsoleFault(400, "InvalidRequest", "The sign-in body is not JSON.");
    }
    if (body.development === true && backend.developmentPrincipal !== undefined) {
      return openSession(req, backend.developmentPrincipal);
    }
    const key = typeof body.accessKeyId === "string" ? body.accessKeyId : "";
    const secret = typeof body.secretAccessKey === "string" ? body.secretAccessKey : "";
    const principal = backend.signIn(key, secret);
    if (principal === undefined) {
      throw new ConsoleFault(401, "InvalidCredentials", "The access key or the secret is not right.");
    }
    return openSession(req, principal);
  }

  function signOut(req: ConsoleRequest): ConsoleResponse {
    const session = signedIn(req);
    checkCsrf(req, session);
    sessions.close(session.id);
    const setCookie = [sessionCookie(req, "", 0)];
    if (backend.developmentPrincipal !== undefined) setCookie.push(signedOutCookie(req, true));
    return json(200, { signedIn: false }, { "set-cookie": setCookie });
  }

  async function apiRoute(
    req: ConsoleRequest,
    path: string,
    query: URLSearchParams,
  ): Promise<ConsoleResponse> {
    const route = `${req.method} ${path}`;
    if (route === "GET /api/session") return session(req);
    if (route === "POST /api/sign-in") return signIn(req);
    if (route === "POST /api/sign-out") return signOut(req);
    if (req.method !== "GET")
      throw new ConsoleFault(405, "MethodNotAllowed", `${req.method} ${path} is not served.`);
    const current = signedIn(req);
    const { api, region } = apiFor(req, current, query);
    switch (path) {
      case "/api/events": {
        const page = await api.lookupEvents(lookupInput(query));
        return json(200, { events: (page.Events ?? []).map(toRow), nextToken: page.NextToken ?? null });
      }
      case "/api/events.csv":
        return download(
          `event-history-${region}.csv`,
          "text/csv; charset=utf-8",
          toCsv(await exportRows(api, query)),
        );
      case "/api/events.json":
        return download(
          `event-history-${region}.json`,
          "application/json; charset=utf-8",
          toJsonExport(await exportRows(api, query)),
        );
      case "/api/trails":
        return json(200, { trails: await trailsView(backend, api, region) });
      case "/api/insight-metrics":
        return json(200, await insightMetrics(api, query));
      default:
        throw new ConsoleFault(404, "NotFound", `${path} is not served.`);
    }
  }

  return async function handle(req: ConsoleRequest): Promise<ConsoleResponse> {
    const url = new URL(req.url, "http://console.invalid");
    const path = url.pathname.slice(CONSOLE_PREFIX.length) || "/";
    const asset = req.method === "GET" ? ASSETS[path] : undefined;
    if (asset !== undefined) {
      return { status: 200, headers: { ...SECURITY_HEADERS, "content-type": asset.type }, body: asset.body };
    }
    if (!path.startsWith("/api/"))
      return json(404, { error: { code: "NotFound", message: `${path} is not served.` } });
    try {
      return await apiRoute(req, path, url.searchParams);
    } catch (e) {
      if (e instanceof ConsoleFault) return json(e.status, { error: { code: e.code, message: e.message } });
      if (e instanceof CloudTrailError)
        return json(e.status, { error: { code: e.code, message: e.message } });
      throw e;
    }
  };
}

export type ConsoleHandler = ReturnType<typeof createConsole>;
