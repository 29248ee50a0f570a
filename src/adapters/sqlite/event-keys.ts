import { eachLookupValue, type LookupSource } from "../../domain/events.ts";
import type { LookupKey } from "../../ports/index.ts";

/**
 * Lookup attributes as full-text tokens. Attribute values may hold any character, and FTS5's
 * tokenizers split on punctuation, so each (scope, attribute, value) becomes one opaque token of
 * letters and digits. A token is a hash: two different values may share one, so a lookup always
 * compares the stored column too, and a shared token costs time, never a wrong answer.
 *
 * The event id token is per account, not per scope: it also serves the duplicate check, and an
 * eventID is unique within an account whatever its region or category.
 */
const KIND: Record<Exclude<LookupKey, "EventId">, string> = {
  EventName: "n",
  EventSource: "s",
  ReadOnly: "r",
  Username: "u",
  AccessKeyId: "k",
  ResourceType: "t",
  ResourceName: "a",
};

export type Hashes = readonly [number, number];

/** Two independent 32-bit hashes of the UTF-16 code units. */
export function hashes(value: string): Hashes {
  let a = 0x811c9dc5;
  let b = 0x9747b28c;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995);
    b ^= b >>> 15;
  }
  return [a >>> 0, b >>> 0];
}

/** 30 bits of each hash: 60 bits make a shared token rare, and V8 turns 30-bit integers into text cheaply. */
function text([a, b]: Hashes): string {
  return `${(a >>> 2).toString(36)}x${(b >>> 2).toString(36)}`;
}

/** What identifies an event for the duplicate check: its account and eventID. */
export function idKey(accountId: string, eventId: string): string {
  return `${accountId}\u0000${eventId}`;
}

/** The token of an (account, eventID) pair, from `hashes(idKey(...))`. */
export function idToken(id: Hashes): string {
  return `d${text(id)}`;
}

export function lookupToken(scope: number, accountId: string, key: LookupKey, value: string): string {
  if (key === "EventId") return idToken(hashes(idKey(accountId, value)));
  return `${KIND[key]}${scope}x${text(hashes(value))}`;
}

/**
 * The document FTS5 indexes for one event: its tokens separated by spaces, the id token first.
 * Empty values are not looked up.
 */
export function eventTokens(scope: number, event: TokenSource, id: Hashes): string {
  return eventTokenParts(event, id).join(String(scope));
}

/**
 * eventTokens without the scope, which only the write transaction knows: the parts join with
 * the scope's number into the document. Everything that costs (hashing the values) happens here,
 * before the transaction.
 */
export function eventTokenParts(event: TokenSource, id: Hashes): string[] {
  const parts: string[] = [];
  let part = idToken(id);
  eachLookupValue(event, (key, value) => {
    parts.push(`${part} ${KIND[key]}`);
    part = `x${text(hashes(value))}`;
  });
  parts.push(part);
  return parts;
}

export type TokenSource = LookupSource;

/** A token as an FTS5 query: quoted, so it is one term whatever it contains. */
export function matchExpression(token: string): string {
  return `"${token}"`;
}
