import { EventBridgeClient, PutEventsCommand } from "@aws-sdk/client-eventbridge";
import { AwsServiceError, AwsServiceUnconfigured, type EventBus } from "../../ports/aws.ts";
import { type AwsEndpoint, regionalClients, toAwsServiceError } from "./errors.ts";

/** EventBridge at `endpoint` (undefined: not configured). */
export function createEventBus(endpoint: AwsEndpoint | undefined): EventBus & { close(): void } {
  const clients = regionalClients(endpoint, (config) => new EventBridgeClient(config));
  return {
    configured: endpoint !== undefined,
    async putEvents(region, entries) {
      if (!clients) throw new AwsServiceUnconfigured("events");
      let failed: { ErrorCode?: string; ErrorMessage?: string } | undefined;
      try {
        const res = await clients.get(region).send(
          new PutEventsCommand({
            Entries: entries.map((e) => ({
              Source: e.source,
              DetailType: e.detailType,
              Detail: e.detail,
              Time: e.time,
              Resources: e.resources,
            })),
          }),
        );
        failed = (res.FailedEntryCount ?? 0) > 0 ? res.Entries?.find((x) => x.ErrorCode) : undefined;
      } catch (e) {
        throw toAwsServiceError(e, `put events in ${region}`);
      }
      if (failed) {
        throw new AwsServiceError(
          failed.ErrorCode ?? "InternalFailure",
          failed.ErrorMessage ?? "entry refused",
          true,
        );
      }
    },
    close: () => clients?.close(),
  };
}
