import type { Logger } from "pino";

/*
 * What every call carries through the layers: who calls, where, and the request's id, logger,
 * clock and ids. The runtime ports (clock, ids) are defined here because the request context,
 * which every layer sees, holds them.
 */

export interface Clock {
  now(): Date;
}

export interface Ids {
  /** A fresh UUID v4 (request ids, event ids). */
  uuid(): string;
}

/** Where a credential leads: the account and the identity written into records. */
export interface Principal {
  accountId: string;
  accessKeyId: string;
  /** The userIdentity object of records made with this key (accessKeyId filled per request). */
  identity: Record<string, unknown>;
}

/** What every handler gets: who calls, where, and the request's id, logger, clock and ids. */
export interface RequestContext {
  accountId: string;
  region: string;
  principal: Principal;
  requestId: string;
  log: Logger;
  clock: Clock;
  ids: Ids;
}

/** What the wire layer knows of the caller of a call, which its record states. */
export interface CallerFacts {
  /** The caller's address (sourceIPAddress). */
  sourceIPAddress: string;
  userAgent?: string;
  /** Present when the call came over TLS; `host` is the request's Host header. */
  tls?: { version: string; cipher: string; host?: string };
  /** The call was made by the web console for a signed-in user (sessionCredentialFromConsole). */
  fromConsole?: boolean;
}
