/** Records shared by the record-model tests, and the AWS documentation corpus as they read it. */
import { loadCorpus } from "./selectors-fixtures.ts";

export const ACCT = "111122223333";

export const INSIGHT_RECORD = {
  eventVersion: "1.08",
  eventTime: "2024-03-05T12:00:00Z",
  awsRegion: "us-east-1",
  eventID: "i-1",
  eventType: "AwsCloudTrailInsight",
  recipientAccountId: ACCT,
  sharedEventID: "s-1",
  insightDetails: { state: "Start", eventSource: "ec2.amazonaws.com", eventName: "RunInstances" },
  eventCategory: "Insight",
};

/** The corpus records, or undefined when the shared corpus is not beside the repository. */
export function corpusRecords(): Record<string, unknown>[] | undefined {
  return loadCorpus() as Record<string, unknown>[] | undefined;
}

/** The account a corpus record is ingested for: its own recipient, or ours when it names none. */
export function recipientOf(raw: Record<string, unknown>): string {
  return typeof raw.recipientAccountId === "string" ? raw.recipientAccountId : ACCT;
}
