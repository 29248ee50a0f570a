import { partitionOf } from "../domain/names.ts";
import { formatEventTime } from "../domain/records.ts";
import type { Credential, CredentialStore, KeyEntry, Principal } from "../ports/index.ts";

/**
 * The userIdentity template of records made with this key (accessKeyId is the key itself).
 * `issued` is when a session's credentials count as issued unless the configuration says.
 */
export function principalFor(c: KeyEntry, region = "us-east-1", issued = new Date()): Principal {
  const p = partitionOf(region);
  let identity: Record<string, unknown>;
  if (c.type === "Root") {
    identity = {
      type: "Root",
      principalId: c.principalId ?? c.accountId,
      arn: `arn:${p}:iam::${c.accountId}:root`,
      accountId: c.accountId,
      accessKeyId: c.accessKeyId,
    };
  } else if (c.type === "AssumedRole") {
    const roleId = c.principalId ?? `AROA${c.accountId}`;
    identity = {
      type: "AssumedRole",
      principalId: `${roleId}:${c.sessionName}`,
      arn: `arn:${p}:sts::${c.accountId}:assumed-role/${c.roleName}/${c.sessionName}`,
      accountId: c.accountId,
      accessKeyId: c.accessKeyId,
      sessionContext: {
        sessionIssuer: {
          type: "Role",
          principalId: roleId,
          arn: `arn:${p}:iam::${c.accountId}:role/${c.roleName}`,
          accountId: c.accountId,
          userName: c.roleName,
        },
        attributes: {
          creationDate: c.sessionCreated ?? formatEventTime(issued),
          mfaAuthenticated: "false",
        },
      },
    };
  } else {
    identity = {
      type: "IAMUser",
      principalId: c.principalId ?? `AIDA${c.accountId}`,
      arn: `arn:${p}:iam::${c.accountId}:user/${c.userName}`,
      accountId: c.accountId,
      accessKeyId: c.accessKeyId,
      userName: c.userName,
    };
  }
  return { accountId: c.accountId, accessKeyId: c.accessKeyId, identity };
}

export class StaticCredentialStore implements CredentialStore {
  readonly #byKey = new Map<string, Credential>();

  constructor(entries: readonly KeyEntry[]) {
    for (const c of entries) {
      this.#byKey.set(c.accessKeyId, {
        accessKeyId: c.accessKeyId,
        secretAccessKey: c.secretAccessKey,
        sessionToken: c.sessionToken,
        principal: principalFor(c),
      });
    }
  }

  lookup(accessKeyId: string): Credential | undefined {
    return this.#byKey.get(accessKeyId);
  }
}
