import { randomBytes } from "node:crypto";
import type { Principal } from "../api/context.ts";

/** A signed-in browser: who it is, its CSRF token, and when the session ends. */
export interface ConsoleSession {
  id: string;
  principal: Principal;
  csrf: string;
  expires: number;
}

/** How long a console session lasts, as AWS's console sessions do by default. */
export const SESSION_TTL_MS = 12 * 60 * 60 * 1000;
/** Sessions kept at most; the oldest is dropped first. */
export const MAX_SESSIONS = 10_000;

const token = () => randomBytes(32).toString("base64url");

/** Sessions in memory: a restart signs everyone out, which is what a local console may do. */
export function createSessions(now: () => number, ttlMs = SESSION_TTL_MS, max = MAX_SESSIONS) {
  const byId = new Map<string, ConsoleSession>();
  return {
    open(principal: Principal): ConsoleSession {
      if (byId.size >= max) byId.delete(byId.keys().next().value as string);
      const session = { id: token(), principal, csrf: token(), expires: now() + ttlMs };
      byId.set(session.id, session);
      return session;
    },
    find(id: string | undefined): ConsoleSession | undefined {
      if (id === undefined) return undefined;
      const session = byId.get(id);
      if (session === undefined) return undefined;
      if (session.expires <= now()) {
        byId.delete(id);
        return undefined;
      }
      return session;
    },
    close(id: string): void {
      byId.delete(id);
    },
  };
}

export type Sessions = ReturnType<typeof createSessions>;
