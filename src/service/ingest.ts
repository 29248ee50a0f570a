import type { IngestContext, IngestInvalid, IngestProblem, IngestStored } from "../api/ingest.ts";
import { checkIngestRecordJson } from "../domain/records/ingest.ts";
import { eventTimeWarning, toStoredEvent } from "../domain/records.ts";
import type { EventStore, StoredEvent } from "../ports/index.ts";
import type { Route } from "../recording/router.ts";

/**
 * Stores a batch of records other services report, all or nothing: one bad record refuses the
 * batch. Records whose eventID is already stored for the account are skipped, so retries are safe.
 */
export async function ingestRecords(
  events: EventStore,
  ctx: IngestContext,
  raw: readonly unknown[],
  route?: Route,
  /** Each record's text in the body when it was sent compact, else undefined. */
  sentTexts?: readonly (string | undefined)[],
): Promise<IngestStored | IngestInvalid> {
  const now = ctx.clock.now();
  const defaults = {
    accountId: ctx.accountId,
    region: ctx.region,
    eventTime: now,
    newEventId: () => ctx.ids.uuid(),
  };
  const problems: IngestProblem[] = [];
  const warnings: IngestProblem[] = [];
  const stored: StoredEvent[] = [];
  const records: Record<string, unknown>[] = [];
  for (let index = 0; index < raw.length; index++) {
    const checked = checkIngestRecordJson(raw[index], defaults, sentTexts?.[index]);
    if (!checked.ok) problems.push({ index, reason: checked.reason });
    else if (problems.length === 0) {
      stored.push(toStoredEvent(checked.record, ctx.accountId, checked.json, checked.time));
      records.push(checked.record);
      const warning = eventTimeWarning(checked.time, now);
      if (warning !== undefined) warnings.push({ index, reason: warning });
    }
  }
  if (problems.length > 0) return { kind: "invalid", problems, total: raw.length };
  if (route) {
    for (let i = 0; i < stored.length; i++) {
      const ev = stored[i]!;
      ev.destinations = await route(ctx.accountId, records[i]!, ev.eventTime);
    }
  }
  // one eventID twice in one batch is one event
  const { duplicates } = await events.append(stored, now);
  return {
    kind: "stored",
    eventIds: stored.map((e) => e.eventId),
    duplicates,
    ...(warnings.length > 0 ? { warnings } : {}),
  };
}
