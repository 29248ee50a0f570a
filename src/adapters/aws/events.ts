import { AwsServiceError, AwsServiceUnconfigured, type EventBus } from "../../ports/aws.ts";
import { type AwsEndpoint, regionalClients, toAwsServiceError } from "./errors.ts";

/** EventBridge at `endpoint` (undefined: not configured). */
export function createEventBus(endpoint: AwsEndpoint | undefined): EventBus & { close(): void } {
  const clients = regionalClients(
    endpoint,
    () => import("@aws-sdk/client-eventbridge"),
    (sdk, config) => new sdk.EventBridgeClient(config),
  );
  return {
    configured: endpoint !== undefined,
    async putEvents(region, entries) {
      if (!clients) throw new AwsServiceUnconfigured("events");
      let failed: { ErrorCode?: string; ErrorMessage?: string } | undefined;
      try {
        const { client, sdk } = await clients.get(region);
        const res = await client.send(
          new sdk.PutEventsCommand({
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
