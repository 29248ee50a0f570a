import { existsSync, readFileSync } from "node:fs";
import type { CloudTrailClient, Event } from "@aws-sdk/client-cloudtrail";
import type { CloudTrailApi } from "../../src/api/index.ts";

/**
 * Reading records back: LookupEvents by EventId, the record spelling of wire members, the
 * documented time format, and the corpus of records AWS wrote.
 */

/** `YYYY-MM-DDTHH:MM:SSZ`, whole seconds (log-files.md §1). */
export const EVENT_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/;
export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The one event LookupEvents finds by EventId (fails on none or several), and its record. */
export async function eventById(
  api: Pick<CloudTrailApi, "lookupEvents">,
  eventId: string,
  window: { StartTime?: Date; EndTime?: Date } = {},
): Promise<{ event: Event; record: Record<string, unknown> }> {
  const answer = await api.lookupEvents({
    LookupAttributes: [{ AttributeKey: "EventId", AttributeValue: eventId }],
    ...window,
  });
  const events = answer.Events ?? [];
  if (events.length !== 1)
    throw new Error(`expected one event ${eventId}, LookupEvents found ${events.length}`);
  const event = events[0]!;
  return { event, record: JSON.parse(event.CloudTrailEvent ?? "null") as Record<string, unknown> };
}

/**
 * The spelling log-files.md §3 gives request and response members in a record: each member name
 * with its first letter lower-cased, at every depth; undefined members and SDK metadata left out.
 * Written here from the spec rather than imported, so the tests do not check the code with itself.
 */
export function recordSpelling(value: unknown): unknown {
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map(recordSpelling);
  if (value === null || typeof value !== "object") return value;
  const out: Record<string, unknown> = {};
  for (const [key, member] of Object.entries(value)) {
    if (member !== undefined && key !== "$metadata")
      out[key[0]!.toLowerCase() + key.slice(1)] = recordSpelling(member);
  }
  return out;
}

/** `YYYY-MM-DDTHH:MM:SSZ` of a moment: the second it falls in. */
export function secondOf(time: Date): string {
  return `${time.toISOString().slice(0, 19)}Z`;
}

/** The start of the second `time` falls in: records carry whole seconds. */
export function floorSecond(time: Date): Date {
  return new Date(Math.floor(time.getTime() / 1000) * 1000);
}

export interface SdkCapture {
  /** Headers of the last request as it went on the wire (signed). */
  lastHeaders: Record<string, string>;
}

/**
 * Captures what the SDK sends, and adds `extraHeaders` after signing, as a proxy in between
 * would. The deserialize step runs after signing, right before the request is sent.
 */
export function captureRequests(
  client: CloudTrailClient,
  extraHeaders: () => Record<string, string> = () => ({}),
): SdkCapture {
  const capture: SdkCapture = { lastHeaders: {} };
  client.middlewareStack.add(
    (next) => async (args) => {
      const request = args.request as { headers: Record<string, string> };
      Object.assign(request.headers, extraHeaders());
      capture.lastHeaders = { ...request.headers };
      return next(args);
    },
    { step: "deserialize", name: "captureRequests" },
  );
  return capture;
}

/** The AWS documentation's example records, when the shared corpus is there. */
export function loadCorpus(url: URL): Record<string, unknown>[] | undefined {
  if (!existsSync(url)) return undefined;
  return JSON.parse(readFileSync(url, "utf8")) as Record<string, unknown>[];
}
