import type { Principal } from "../api/context.ts";

export type { Principal } from "../api/context.ts";

export interface Credential {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  principal: Principal;
  /**
   * Development mode's account keys: the key names the account and any secret is accepted, as
   * AWS emulators do, so the signature is not compared (its form and scope still are).
   */
  anySecret?: true;
  /** Accounts besides its own that `POST /ingest` may store records for with this key. */
  ingestAccounts?: readonly string[];
}

/** Access keys the server accepts. */
export interface CredentialStore {
  lookup(accessKeyId: string): Credential | undefined;
}

/** A configured access key and who it stands for; the configuration's credential entries are these. */
export interface KeyEntry {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  accountId: string;
  type: "IAMUser" | "Root" | "AssumedRole";
  /** IAM user name (IAMUser). */
  userName?: string;
  roleName?: string;
  sessionName?: string;
  principalId?: string;
  /** AssumedRole: when the session's credentials were issued, `YYYY-MM-DDTHH:MM:SSZ`. */
  sessionCreated?: string;
  /** Accounts besides its own that `POST /ingest` may store records for with this key. */
  ingestAccounts?: readonly string[];
}
