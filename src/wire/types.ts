/** A request as the HTTP layer hands it to the wire layer: no sockets, so tests can inject. */
export interface RawRequest {
  method: string;
  /** Path with query string, as received. */
  url: string;
  /** Header names lower-cased; repeated headers joined with ",". */
  headers: Record<string, string>;
  body: Buffer;
  remoteAddress: string;
  /** Present when the request came over TLS. */
  tls?: { version: string; cipher: string };
}

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
