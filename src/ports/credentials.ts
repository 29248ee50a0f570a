import type { Principal } from "../api/context.ts";

export type { Principal } from "../api/context.ts";

export interface Credential {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  principal: Principal;
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
}
