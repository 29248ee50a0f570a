import { AwsServiceUnconfigured, type Notifications, type TopicAnswer } from "../../ports/aws.ts";
import { type AwsEndpoint, regionalClients, toAwsServiceError } from "./errors.ts";

/** SNS at `endpoint` (undefined: not configured), one client per topic region. */
export function createSnsNotifications(endpoint: AwsEndpoint | undefined): Notifications & { close(): void } {
  const clients = regionalClients(
    endpoint,
    () => import("@aws-sdk/client-sns"),
    (sdk, config) => new sdk.SNSClient(config),
  );
  const client = async (topicArn: string) => {
    if (!clients) throw new AwsServiceUnconfigured("sns");
    return clients.get(topicArn.split(":")[3] || "us-east-1");
  };
  return {
    configured: endpoint !== undefined,
    async topicPolicy(topicArn): Promise<TopicAnswer> {
      try {
        const { client: sns, sdk } = await client(topicArn);
        const res = await sns.send(new sdk.GetTopicAttributesCommand({ TopicArn: topicArn }));
        const policy = res.Attributes?.Policy;
        const key = res.Attributes?.KmsMasterKeyId;
        const encrypted = key ? { kmsMasterKeyId: key } : {};
        return policy ? { kind: "policy", document: policy, ...encrypted } : { kind: "none", ...encrypted };
      } catch (e) {
        const error = toAwsServiceError(e, `get the attributes of ${topicArn}`);
        if (error.code === "NotFound" || error.code === "NotFoundException") return { kind: "missing" };
        if (error.code === "AuthorizationError") return { kind: "unknown", reason: error.message };
        throw error;
      }
    },
    async publish(topicArn, message) {
      try {
        const { client: sns, sdk } = await client(topicArn);
        await sns.send(new sdk.PublishCommand({ TopicArn: topicArn, Message: message }));
      } catch (e) {
        throw toAwsServiceError(e, `publish to ${topicArn}`);
      }
    },
    close: () => clients?.close(),
  };
}
