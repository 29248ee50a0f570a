import { AwsServiceUnconfigured, type KeyService, type PolicyAnswer } from "../../ports/aws.ts";
import { type AwsEndpoint, regionalClients, toAwsServiceError } from "./errors.ts";

/** KMS at `endpoint` (undefined: not configured); the region is the ARN's, else `defaultRegion`. */
export function createKeyService(
  endpoint: AwsEndpoint | undefined,
  defaultRegion: string,
): KeyService & { close(): void } {
  const clients = regionalClients(
    endpoint,
    () => import("@aws-sdk/client-kms"),
    (sdk, config) => new sdk.KMSClient(config),
  );
  const client = async (keyId: string) => {
    if (!clients) throw new AwsServiceUnconfigured("kms");
    return clients.get(keyId.startsWith("arn:") ? (keyId.split(":")[3] ?? defaultRegion) : defaultRegion);
  };
  return {
    configured: endpoint !== undefined,
    async describeKey(keyId) {
      try {
        const { client: kms, sdk } = await client(keyId);
        const res = await kms.send(new sdk.DescribeKeyCommand({ KeyId: keyId }));
        const meta = res.KeyMetadata;
        if (!meta?.Arn) return undefined;
        return {
          arn: meta.Arn,
          enabled: meta.Enabled !== false,
          ...(meta.KeyState ? { state: meta.KeyState } : {}),
        };
      } catch (e) {
        const error = toAwsServiceError(e, `describe key ${keyId}`);
        if (error.code === "NotFoundException") return undefined;
        throw error;
      }
    },
    async keyPolicy(keyArn): Promise<PolicyAnswer> {
      try {
        const { client: kms, sdk } = await client(keyArn);
        const res = await kms.send(new sdk.GetKeyPolicyCommand({ KeyId: keyArn, PolicyName: "default" }));
        return res.Policy ? { kind: "policy", document: res.Policy } : { kind: "none" };
      } catch (e) {
        const error = toAwsServiceError(e, `get the policy of key ${keyArn}`);
        if (error.code === "NotFoundException") return { kind: "missing" };
        if (error.code === "AccessDeniedException") return { kind: "unknown", reason: error.message };
        throw error;
      }
    },
    close: () => clients?.close(),
  };
}
