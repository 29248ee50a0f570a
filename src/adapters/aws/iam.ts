import { AwsServiceUnconfigured, type RoleAnswer, type Roles } from "../../ports/aws.ts";
import { type AwsEndpoint, regionalClients, toAwsServiceError } from "./errors.ts";

/** IAM answers a missing role, policy or version with this code. */
const NO_SUCH_ENTITY = "NoSuchEntityException";
const ACCESS_DENIED = new Set(["AccessDenied", "AccessDeniedException"]);

/** Policy documents come URL-encoded (RFC 3986) from IAM; an emulator may send plain JSON. */
function decoded(document: string): string {
  return document.trimStart().startsWith("{") ? document : decodeURIComponent(document);
}

/** The name a role ARN ends with (`role/NAME` or `role/path/.../NAME`). */
function roleName(roleArn: string): string {
  return roleArn.slice(roleArn.lastIndexOf("/") + 1);
}

class Missing extends Error {}

/** IAM at `endpoint` (undefined: not configured); IAM is global, signed for us-east-1. */
export function createRoles(endpoint: AwsEndpoint | undefined): Roles & { close(): void } {
  const clients = regionalClients(
    endpoint,
    () => import("@aws-sdk/client-iam"),
    (sdk, config) => new sdk.IAMClient(config),
  );
  const iam = async () => {
    if (!clients) throw new AwsServiceUnconfigured("iam");
    return clients.get("us-east-1");
  };

  async function inlinePolicies(name: string): Promise<{ name: string; document: string }[]> {
    const { client, sdk } = await iam();
    const out: { name: string; document: string }[] = [];
    let marker: string | undefined;
    do {
      const page = await client.send(new sdk.ListRolePoliciesCommand({ RoleName: name, Marker: marker }));
      for (const policyName of page.PolicyNames ?? []) {
        const res = await client.send(
          new sdk.GetRolePolicyCommand({ RoleName: name, PolicyName: policyName }),
        );
        if (res.PolicyDocument) out.push({ name: policyName, document: decoded(res.PolicyDocument) });
      }
      marker = page.IsTruncated ? page.Marker : undefined;
    } while (marker);
    return out;
  }

  /** The default version's document of a managed policy; undefined when it went away meanwhile. */
  async function managedPolicy(policyArn: string): Promise<string | undefined> {
    try {
      const { client, sdk } = await iam();
      const policy = await client.send(new sdk.GetPolicyCommand({ PolicyArn: policyArn }));
      const version = policy.Policy?.DefaultVersionId;
      if (!version) return undefined;
      const res = await client.send(
        new sdk.GetPolicyVersionCommand({ PolicyArn: policyArn, VersionId: version }),
      );
      const document = res.PolicyVersion?.Document;
      return document ? decoded(document) : undefined;
    } catch (e) {
      if (toAwsServiceError(e, "").code === NO_SUCH_ENTITY) return undefined;
      throw e;
    }
  }

  async function attachedPolicies(name: string): Promise<{ name: string; document: string }[]> {
    const { client, sdk } = await iam();
    const out: { name: string; document: string }[] = [];
    let marker: string | undefined;
    do {
      const page = await client.send(
        new sdk.ListAttachedRolePoliciesCommand({ RoleName: name, Marker: marker }),
      );
      for (const attached of page.AttachedPolicies ?? []) {
        if (!attached.PolicyArn) continue;
        const document = await managedPolicy(attached.PolicyArn);
        if (document !== undefined) out.push({ name: attached.PolicyArn, document });
      }
      marker = page.IsTruncated ? page.Marker : undefined;
    } while (marker);
    return out;
  }

  return {
    configured: endpoint !== undefined,
    async role(roleArn): Promise<RoleAnswer> {
      const name = roleName(roleArn);
      try {
        const { client, sdk } = await iam();
        const res = await client.send(new sdk.GetRoleCommand({ RoleName: name }));
        const role = res.Role;
        // GetRole asks by name in our credentials' account: a role of that name elsewhere is not this one
        if (!role?.Arn || role.Arn !== roleArn || !role.AssumeRolePolicyDocument) throw new Missing();
        const boundaryArn = role.PermissionsBoundary?.PermissionsBoundaryArn;
        const boundary = boundaryArn ? await managedPolicy(boundaryArn) : undefined;
        const policies = [...(await inlinePolicies(name)), ...(await attachedPolicies(name))];
        return {
          kind: "role",
          arn: role.Arn,
          trustPolicy: decoded(role.AssumeRolePolicyDocument),
          identity: { policies, ...(boundary !== undefined ? { boundary } : {}) },
        };
      } catch (e) {
        if (e instanceof Missing) return { kind: "missing" };
        const error = toAwsServiceError(e, `read role ${roleArn}`);
        // the role went away between two reads
        if (error.code === NO_SUCH_ENTITY) return { kind: "missing" };
        if (ACCESS_DENIED.has(error.code)) return { kind: "unknown", reason: error.message };
        throw error;
      }
    },
    close: () => clients?.close(),
  };
}
