import { rateExceeded } from "../api/messages.ts";
import type { Clock } from "../ports/index.ts";

/**
 * Requests per second per (account, region), as AWS limits LookupEvents (2 per second): a token
 * bucket holding one second's worth (at least one request, so that a rate below one a second lets
 * one call through every 1/rate seconds), refilled continuously. A request over the rate is refused
 * with ThrottlingException "Rate exceeded", which the SDKs and the AWS CLI retry by themselves.
 */
export function createRateLimit(perSecond: number, clock: Clock) {
  const buckets = new Map<string, { tokens: number; at: number }>();
  const capacity = Math.max(1, perSecond);
  return {
    /** Takes one request's token or throws ThrottlingException. */
    take(accountId: string, region: string): void {
      const key = `${accountId}\u0000${region}`;
      const now = clock.now().getTime();
      const bucket = buckets.get(key) ?? { tokens: capacity, at: now };
      bucket.tokens = Math.min(capacity, bucket.tokens + ((now - bucket.at) / 1000) * perSecond);
      bucket.at = now;
      buckets.set(key, bucket);
      if (bucket.tokens < 1) throw rateExceeded();
      bucket.tokens -= 1;
    },
  };
}

export type RateLimit = ReturnType<typeof createRateLimit>;
