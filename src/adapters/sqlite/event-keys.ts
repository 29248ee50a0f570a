import type { LookupKey, StoredEvent } from "../../ports/index.ts";

/**
 * Lookup attributes as full-text tokens. Attribute values may hold any character, and FTS5's
 * tokenizers split on punctuation, so each (scope, attribute, value) becomes one opaque token of
 * letters and digits. A token is a hash: two different values may share one, so a lookup always
 * compares the stored column too, and a shared token costs time, never a wrong answer.
 */
const KIND: Record<LookupKey, string> = {
  EventId: "i",
  EventName: "n",
  EventSource: "s",
  ReadOnly: "r",
  Username: "u",
  AccessKeyId: "k",
  ResourceType: "t",
  ResourceName: "a",
};

/**
 * Two independent hashes of the UTF-16 code units, 30 bits of each kept: 60 bits make a shared
 * token rare, and 30-bit integers are small integers to V8, whose conversion to text is cheap.
 */
function hash(value: string): string {
  let a = 0x811c9dc5;
  let b = 0x9747b28c;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995);
    b ^= b >>> 15;
  }
  return `${(a >>> 2).toString(36)}x${(b >>> 2).toString(36)}`;
}

export function lookupToken(scope: number, key: LookupKey, value: string): string {
  return `${KIND[key]}${scope}x${hash(value)}`;
}

/** The document FTS5 indexes for one event: its tokens separated by spaces. Empty values are not looked up. */
export function eventTokens(scope: number, event: StoredEvent): string {
  let doc = lookupToken(scope, "EventId", event.eventId);
  const add = (key: LookupKey, value: string | undefined) => {
    if (value) doc += ` ${lookupToken(scope, key, value)}`;
  };
  add("EventName", event.eventName);
  add("EventSource", event.eventSource);
  if (event.readOnly !== undefined) add("ReadOnly", String(event.readOnly));
  add("Username", event.username);
  add("AccessKeyId", event.accessKeyId);
  for (const r of event.resources) {
    add("ResourceType", r.type);
    add("ResourceName", r.name);
  }
  return doc;
}

/** A token as an FTS5 query: quoted, so it is one term whatever it contains. */
export function matchExpression(token: string): string {
  return `"${token}"`;
}
