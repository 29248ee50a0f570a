export type { RawRequest } from "../api/requests.ts";

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  /** Sent as UTF-8. */
  body: string;
  /** Bytes sent instead of `body` (an S3 object). */
  bytes?: Uint8Array;
  /**
   * The operation answered, for the access log and /metrics; never sent. Only names from a fixed
   * list (a known operation), never text the caller chose, so that a metric label stays bounded.
   */
  operation?: string;
}
