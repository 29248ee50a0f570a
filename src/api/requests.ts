/**
 * A request as the HTTP layer hands it to the layers that answer it (the wire, the console): no
 * sockets, so tests can inject.
 */
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
