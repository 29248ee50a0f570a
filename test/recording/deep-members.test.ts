import { describe, expect, it } from "vitest";
import type { StoredEvent } from "../../src/domain/events.ts";
import { MAX_RECORD_DEPTH } from "../../src/domain/records/text.ts";
import { checkIngestRecord } from "../../src/domain/records.ts";
import type { EventStore } from "../../src/ports/index.ts";
import { createRecorder } from "../../src/recording/recorder.ts";
import { ownCallToRecord } from "../../src/service/own-calls.ts";
import { json, signed, stubService, wireWith } from "../wire/sign.ts";

/** Members and records nested far deeper than any real one: refused or marked, never a crash. */

function nested(levels: number): string {
  return `${"[".repeat(levels)}${"]".repeat(levels)}`;
}

function memoryEvents(): EventStore & { stored: StoredEvent[] } {
  const stored: StoredEvent[] = [];
  return {
    stored,
    async append(events) {
      stored.push(...events);
      return { inserted: events.length, duplicates: [] };
    },
    async lookup() {
      return [];
    },
    async purgeBefore() {
      return 0;
    },
  };
}

/** The wire layer over a stub service, recording every call as the server does. */
function recordingWire() {
  const events = memoryEvents();
  const recorder = createRecorder(events);
  const { handle } = wireWith(stubService(), {
    onCall: async (call) => {
      await recorder.record(ownCallToRecord(call));
    },
  });
  return { events, handle };
}

describe("deeply nested members of a call", () => {
  it("GetTrail with Name nested 5,000 deep: SerializationException, and the call recorded with requestParameters omitted", async () => {
    const { events, handle } = recordingWire();
    const res = await handle(await signed({ operation: "GetTrail", body: `{"Name":${nested(5_000)}}` }));
    expect(res.status).toBe(400);
    expect(json(res).__type).toBe("SerializationException");
    expect(events.stored).toHaveLength(1);
    const record = JSON.parse(events.stored[0]!.json) as Record<string, unknown>;
    expect(record.eventName).toBe("GetTrail");
    expect(record.errorCode).toBe("SerializationException");
    expect(record.requestParameters).toEqual({ omitted: true });
  });

  it("members exactly as deep as a record allows are kept", async () => {
    const { events, handle } = recordingWire();
    // the record is level 1, requestParameters level 2, Name's outermost list level 3
    await handle(await signed({ operation: "GetTrail", body: `{"Name":${nested(MAX_RECORD_DEPTH - 2)}}` }));
    const record = JSON.parse(events.stored[0]!.json) as { requestParameters: { name: unknown } };
    expect(JSON.stringify(record.requestParameters.name)).toBe(nested(MAX_RECORD_DEPTH - 2));
  });
});

describe("deeply nested ingested records", () => {
  const defaults = {
    accountId: "123456789012",
    region: "us-east-1",
    eventTime: new Date("2026-12-01T00:00:00Z"),
    newEventId: () => "e1",
  };
  const record = (depth: number) =>
    JSON.parse(
      `{"eventName":"X","eventSource":"x.amazonaws.com","requestParameters":{"a":${nested(depth - 2)}}}`,
    );

  it(`a record nested ${MAX_RECORD_DEPTH} levels deep is accepted`, () => {
    expect(checkIngestRecord(record(MAX_RECORD_DEPTH), defaults).ok).toBe(true);
  });

  it("a record nested 3,000 deep is refused with its reason", () => {
    expect(checkIngestRecord(record(3_000), defaults)).toEqual({
      ok: false,
      reason: `record nests deeper than ${MAX_RECORD_DEPTH} levels`,
    });
  });
});
