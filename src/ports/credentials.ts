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
