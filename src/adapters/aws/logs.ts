import { AwsServiceUnconfigured, type CloudWatchLogs } from "../../ports/aws.ts";
import { type AwsEndpoint, regionalClients, toAwsServiceError } from "./errors.ts";

/** `arn:<p>:logs:<region>:<account>:log-group:<name>:*` → region and name. */
function parseGroupArn(arn: string): { region: string; name: string } {
  const parts = arn.split(":");
  return { region: parts[3] ?? "us-east-1", name: parts.slice(6, parts.length - 1).join(":") };
}

/** CloudWatch Logs at `endpoint` (undefined: not configured). */
export function createCloudWatchLogs(endpoint: AwsEndpoint | undefined): CloudWatchLogs & { close(): void } {
  const clients = regionalClients(
    endpoint,
    () => import("@aws-sdk/client-cloudwatch-logs"),
    (sdk, config) => new sdk.CloudWatchLogsClient(config),
  );
  const client = async (region: string) => {
    if (!clients) throw new AwsServiceUnconfigured("logs");
    return clients.get(region);
  };
  return {
    configured: endpoint !== undefined,
    async logGroupExists(groupArn) {
      const { region, name } = parseGroupArn(groupArn);
      try {
        const { client: logs, sdk } = await client(region);
        const res = await logs.send(new sdk.DescribeLogGroupsCommand({ logGroupNamePrefix: name }));
        return (res.logGroups ?? []).some((g) => g.logGroupName === name);
      } catch (e) {
        throw toAwsServiceError(e, `describe log group ${name}`);
      }
    },
    async putLogEvents(groupArn, stream, events) {
      const { region, name } = parseGroupArn(groupArn);
      try {
        const { client: logs, sdk } = await client(region);
        const put = () =>
          logs.send(
            new sdk.PutLogEventsCommand({
              logGroupName: name,
              logStreamName: stream,
              logEvents: [...events],
            }),
          );
        try {
          await put();
        } catch (e) {
          if ((e as { name?: string }).name !== "ResourceNotFoundException") throw e;
          // the stream is made on first use, as CloudTrail does (logs:CreateLogStream)
          await logs
            .send(new sdk.CreateLogStreamCommand({ logGroupName: name, logStreamName: stream }))
            .catch((c: { name?: string }) => {
              if (c.name !== "ResourceAlreadyExistsException") throw c;
            });
          await put();
        }
      } catch (e) {
        throw toAwsServiceError(e, `put log events into ${name}/${stream}`);
      }
    },
    close: () => clients?.close(),
  };
}
