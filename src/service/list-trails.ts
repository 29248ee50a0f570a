import { invalidNextToken } from "../api/messages.ts";
import type { Handler } from "../api/service.ts";
import type { ServiceDeps } from "./types.ts";

export const LIST_TRAILS_PAGE_SIZE = 50;

/** Tokens carry the (homeRegion, name) of the last trail of the previous page. */
function encodeToken(after: [string, string]): string {
  return Buffer.from(JSON.stringify({ v: 1, after })).toString("base64url");
}

function decodeToken(token: string): [string, string] {
  try {
    const parsed = JSON.parse(Buffer.from(token, "base64url").toString("utf8")) as {
      v?: unknown;
      after?: unknown;
    };
    const after = parsed.after;
    if (
      parsed.v === 1 &&
      Array.isArray(after) &&
      after.length === 2 &&
      typeof after[0] === "string" &&
      typeof after[1] === "string"
    ) {
      return [after[0], after[1]];
    }
  } catch {
    // fall through to the error below
  }
  throw invalidNextToken();
}

function compare(a: [string, string], b: [string, string]): number {
  if (a[0] !== b[0]) return a[0] < b[0] ? -1 : 1;
  return a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0;
}

export function listTrails(deps: ServiceDeps): Handler<"ListTrails"> {
  return async (ctx, input) => {
    const after = input.NextToken !== undefined ? decodeToken(input.NextToken) : undefined;
    const all = (await deps.trails.list(ctx.accountId))
      .map((t) => ({ key: [t.homeRegion, t.name] as [string, string], t }))
      .sort((a, b) => compare(a.key, b.key))
      .filter((e) => !after || compare(e.key, after) > 0);
    const page = all.slice(0, LIST_TRAILS_PAGE_SIZE);
    const last = page.at(-1);
    return {
      Trails: page.map(({ t }) => ({ TrailARN: t.arn, Name: t.name, HomeRegion: t.homeRegion })),
      NextToken: all.length > page.length && last ? encodeToken(last.key) : undefined,
    };
  };
}
