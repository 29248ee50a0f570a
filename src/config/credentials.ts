import { ConfigError, nonEmpty } from "./values.ts";

export const IDENTITY_TYPES = ["IAMUser", "Root", "AssumedRole"] as const;
export type IdentityType = (typeof IDENTITY_TYPES)[number];

/** An access key the server accepts and the principal records name for it. */
export interface CredentialConfig {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  accountId: string;
  type: IdentityType;
  /** IAM user name (IAMUser), role name (AssumedRole). */
  userName?: string;
  roleName?: string;
  sessionName?: string;
  principalId?: string;
  /**
   * AssumedRole: when the session's credentials were issued, `YYYY-MM-DDTHH:MM:SSZ`
   * (sessionContext.attributes.creationDate); the service's start when absent.
   */
  sessionCreated?: string;
  /** Accounts besides its own that `POST /ingest` (`opentrail ingest`) may store records for. */
  ingestAccounts?: string[];
}

const OPTIONAL_KEYS = [
  "sessionToken",
  "userName",
  "roleName",
  "sessionName",
  "principalId",
  "sessionCreated",
] as const;

/** The keys an entry of the file's credentials may hold. */
export const CREDENTIAL_KEYS: readonly (keyof CredentialConfig)[] = [
  "accessKeyId",
  "secretAccessKey",
  "accountId",
  "type",
  ...OPTIONAL_KEYS,
  "ingestAccounts",
];

/** The documented development credential: `test` / `test`, an IAM user of account 123456789012. */
export const DEVELOPMENT_CREDENTIAL: CredentialConfig = {
  accessKeyId: "test",
  secretAccessKey: "test",
  accountId: "123456789012",
  type: "IAMUser",
  userName: "test",
};

export function parseCredential(v: unknown, i: number): CredentialConfig {
  const what = `credentials[${i}]`;
  if (typeof v !== "object" || v === null) throw new ConfigError(`${what} must be an object`);
  const o = v as Record<string, unknown>;
  const accessKeyId = nonEmpty(o.accessKeyId, `${what}.accessKeyId`);
  const secretAccessKey = nonEmpty(o.secretAccessKey, `${what}.secretAccessKey`);
  const accountId = nonEmpty(o.accountId, `${what}.accountId`);
  if (!accessKeyId || !secretAccessKey || !accountId) {
    throw new ConfigError(`${what} needs accessKeyId, secretAccessKey and accountId`);
  }
  if (!/^\d{12}$/.test(accountId)) throw new ConfigError(`${what}.accountId must be 12 digits`);
  const type = (nonEmpty(o.type, `${what}.type`) ?? "IAMUser") as IdentityType;
  if (!IDENTITY_TYPES.includes(type))
    throw new ConfigError(`${what}.type must be one of ${IDENTITY_TYPES.join(", ")}`);
  const cred: CredentialConfig = { accessKeyId, secretAccessKey, accountId, type };
  for (const key of OPTIONAL_KEYS) {
    const value = nonEmpty(o[key], `${what}.${key}`);
    if (value !== undefined) cred[key] = value;
  }
  if (o.ingestAccounts !== undefined && o.ingestAccounts !== null) {
    const list = o.ingestAccounts;
    if (!Array.isArray(list) || list.some((a) => typeof a !== "string" || !/^\d{12}$/.test(a))) {
      throw new ConfigError(`${what}.ingestAccounts must be a list of 12-digit account ids`);
    }
    cred.ingestAccounts = list as string[];
  }
  if (type === "IAMUser" && !cred.userName) throw new ConfigError(`${what}.userName is required for IAMUser`);
  if (type === "AssumedRole" && (!cred.roleName || !cred.sessionName)) {
    throw new ConfigError(`${what}.roleName and sessionName are required for AssumedRole`);
  }
  if (
    cred.sessionCreated !== undefined &&
    !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/.test(cred.sessionCreated)
  ) {
    throw new ConfigError(`${what}.sessionCreated must be a UTC time written YYYY-MM-DDTHH:MM:SSZ`);
  }
  return cred;
}
