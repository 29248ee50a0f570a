import { GetTopicAttributesCommand, PublishCommand, SNSClient } from "@aws-sdk/client-sns";
import { AwsServiceUnconfigured, type Notifications, type PolicyAnswer } from "../../ports/aws.ts";
import { type AwsEndpoint, toAwsServiceError } from "./errors.ts";

/** SNS at `endpoint` (undefined: not configured), one client per topic region. */
export function createSnsNotifications(endpoint: AwsEndpoint | undefined): Notifications & { close(): void } {
  const clients = new Map<string, SNSClient>();
  const client = (topicArn: string): SNSClient => {
    if (!endpoint) throw new AwsServiceUnconfigured("sns");
    const region = topicArn.split(":")[3] || "us-east-1";
    let c = clients.get(region);
    if (!c) {
      c = new SNSClient({
        endpoint: endpoint.url,
        region,
        credentials: endpoint.credentials,
        maxAttempts: 2,
        requestHandler: { connectionTimeout: 2_000, requestTimeout: 5_000, throwOnRequestTimeout: true },
      });
      clients.set(region, c);
    }
    return c;
  };
  return {
    configured: endpoint !== undefined,
    async topicPolicy(topicArn): Promise<PolicyAnswer> {
      try {
        const res = await client(topicArn).send(new GetTopicAttributesCommand({ TopicArn: topicArn }));
        const policy = res.Attributes?.Policy;
        return policy ? { kind: "policy", document: policy } : { kind: "none" };
      } catch (e) {
        const error = toAwsServiceError(e, `get the attributes of ${topicArn}`);
        if (error.code === "NotFound" || error.code === "NotFoundException") return { kind: "missing" };
        if (error.code === "AuthorizationError") return { kind: "unknown", reason: error.message };
        throw error;
      }
    },
    async publish(topicArn, message) {
      try {
        await client(topicArn).send(new PublishCommand({ TopicArn: topicArn, Message: message }));
      } catch (e) {
        throw toAwsServiceError(e, `publish to ${topicArn}`);
      }
    },
    close() {
      for (const c of clients.values()) c.destroy();
      clients.clear();
    },
  };
}
