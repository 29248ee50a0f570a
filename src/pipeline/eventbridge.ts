import type { Trail } from "../domain/trail.ts";
import type { BusEvent, EventBus, ObjectStore } from "../ports/index.ts";
import { type FileOutput, type LogRecord, readRecords } from "./file-outputs.ts";

/** PutEvents takes at most 10 entries and 256 KB per call; one event over 256 KB is not sent (User Guide). */
const MAX_ENTRIES = 10;
const MAX_CALL_BYTES = 256 * 1024;
/** Event ids remembered to send an event once when several trails deliver it. */
const REMEMBERED_IDS = 100_000;

/** detail-type by the record's eventType (notifications-and-integrations.md §3.1). */
const DETAIL_TYPES: Record<string, string> = {
  AwsApiCall: "AWS API Call via CloudTrail",
  AwsConsoleSignIn: "AWS Console Signin via CloudTrail",
  AwsConsoleAction: "AWS Console Action via CloudTrail",
  AwsServiceEvent: "AWS Service Event via CloudTrail",
  AwsCloudTrailInsight: "AWS Insight via CloudTrail",
  NetworkActivity: "AWS Network Activity Event via CloudTrail",
};

/**
 * The EventBridge entry AWS makes of a CloudTrail record. Insights records name no eventSource of
 * their own (the API they are about is in insightDetails): they come from aws.cloudtrail.
 */
export function busEvent(record: LogRecord): BusEvent {
  const from = record.eventType === "AwsCloudTrailInsight" ? "cloudtrail.amazonaws.com" : record.eventSource;
  const source = String(from ?? "").replace(/\.amazonaws\.com$/, "");
  return {
    source: `aws.${source}`,
    detailType: DETAIL_TYPES[String(record.eventType)] ?? DETAIL_TYPES.AwsApiCall!,
    detail: JSON.stringify(record),
    time: new Date(String(record.eventTime)),
    resources: [],
  };
}

/** Entries grouped by region, then cut to PutEvents' limits. */
function calls(records: LogRecord[]): { region: string; entries: BusEvent[] }[] {
  const out: { region: string; entries: BusEvent[]; bytes: number }[] = [];
  const open = new Map<string, { region: string; entries: BusEvent[]; bytes: number }>();
  for (const record of records) {
    const event = busEvent(record);
    const size = Buffer.byteLength(event.detail) + event.source.length + event.detailType.length;
    if (size > MAX_CALL_BYTES) continue;
    const region = String(record.awsRegion ?? "us-east-1");
    let call = open.get(region);
    if (!call || call.entries.length === MAX_ENTRIES || call.bytes + size > MAX_CALL_BYTES) {
      call = { region, entries: [], bytes: 0 };
      open.set(region, call);
      out.push(call);
    }
    call.entries.push(event);
    call.bytes += size;
  }
  return out;
}

/**
 * EventBridge: each record of each delivered file goes to the default bus of its region in AWS's
 * shape. A record several trails deliver is sent once while its id is remembered (the last
 * 100,000 ids, in memory: after a restart a second trail's file may send it again).
 */
export function eventBridgeOutput(bus: EventBus, objects: ObjectStore, enabled: boolean): FileOutput {
  const sent = new Set<string>();
  const remember = (id: string) => {
    sent.add(id);
    if (sent.size > REMEMBERED_IDS) sent.delete(sent.values().next().value as string);
  };
  return {
    consumer: "events",
    batch: 1,
    what: "sent log file to EventBridge",
    wants: (trail): trail is Trail => trail !== undefined && enabled && bus.configured,
    async send(_trail, _lane, files) {
      const file = files[0]!;
      const records = (await readRecords(objects, file)).filter((r) => !sent.has(String(r.eventID)));
      for (const call of calls(records)) await bus.putEvents(call.region, call.entries);
      for (const r of records) remember(String(r.eventID));
      return file.id;
    },
  };
}
