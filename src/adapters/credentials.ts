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
        ...(c.ingestAccounts?.length ? { ingestAccounts: c.ingestAccounts } : {}),
      });
    }
  }

  lookup(accessKeyId: string): Credential | undefined {
    return this.#byKey.get(accessKeyId);
  }
}

/** An access key id that is an account id: development mode's key for that account's root. */
export const ACCOUNT_KEY = /^\d{12}$/;

/**
 * Development mode's keys: the configured development key, and, as LocalStack does, any access key
 * id of 12 digits with any secret, standing for the root of the account it names.
 */
export class DevelopmentCredentialStore implements CredentialStore {
  readonly #configured: CredentialStore;
  readonly #accounts = new Map<string, Credential>();

  constructor(configured: CredentialStore) {
    this.#configured = configured;
  }

  lookup(accessKeyId: string): Credential | undefined {
    const found = this.#configured.lookup(accessKeyId);
    if (found !== undefined || !ACCOUNT_KEY.test(accessKeyId)) return found;
    let account = this.#accounts.get(accessKeyId);
    if (account === undefined) {
      const principal = principalFor({
        accessKeyId,
        secretAccessKey: "",
        accountId: accessKeyId,
        type: "Root",
      });
      account = { accessKeyId, secretAccessKey: "", principal, anySecret: true };
      // a bounded cache: the keys are free to make up
      if (this.#accounts.size >= 10_000) this.#accounts.clear();
      this.#accounts.set(accessKeyId, account);
    }
    return account;
  }
}
