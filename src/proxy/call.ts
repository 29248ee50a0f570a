import type { CallFacts } from "../domain/records/api-call.ts";

/**
 * The seam between the two halves of the recording proxy: forwarding (streams, SigV4, upstreams)
 * hands a request and its upstream's answer, as plain data, to placement and rendering (the
 * generated model table and CloudTrail's rules), which say what call it was and how its record
 * reads. Neither half sees the other's sockets or tables.
 */

/** The AWS protocols of botocore's models. */
export type Protocol = "json" | "rest-json" | "rest-xml" | "query" | "ec2" | "smithy-rpc-v2-cbor";

/** A request as the proxy received it, before it is forwarded. */
export interface ProxiedRequest {
  method: string;
  /** The path as received (still percent-encoded), without the query string. */
  path: string;
  /** The query string as received, without the leading "?"; "" when none. */
  query: string;
  /** Header names in lower case; repeated headers joined with ", ". */
  headers: Readonly<Record<string, string>>;
  /**
   * The whole body when the proxy kept it (see `keepsRequestBody`); undefined when the body was
   * streamed to the upstream without being kept.
   */
  body: Uint8Array | undefined;
  /** The region of the SigV4 credential scope, or the configured region for unsigned requests. */
  region: string;
  /** The signing name of the credential scope (e.g. "s3", "dynamodb"); undefined when unsigned. */
  signingName: string | undefined;
}

/** The upstream's answer, as it was passed back to the client. */
export interface UpstreamAnswer {
  status: number;
  /** Header names in lower case. */
  headers: Readonly<Record<string, string>>;
  /** The whole body when the proxy kept it (see `keepsResponseBody`); undefined when streamed. */
  body: Uint8Array | undefined;
}

/** What the models say a request is. */
export interface PlacedCall {
  /** botocore's service name ("s3", "dynamodb", "lambda"); "unknown" when no model matched. */
  service: string;
  /** The model's operation name; undefined when the service is known but the operation is not. */
  operation: string | undefined;
  protocol: Protocol | undefined;
}

/** The fields of a CloudTrail record that depend on which call it was. */
export type RenderedCall = Pick<
  CallFacts,
  | "eventSource"
  | "eventName"
  | "readOnly"
  | "category"
  | "eventType"
  | "requestParameters"
  | "responseElements"
  | "additionalEventData"
  | "resources"
  | "awsRegion"
  | "apiVersion"
  | "error"
>;

/**
 * What forwarding asks of placement and rendering (implemented in `src/proxy/render.ts`):
 * - `place` is called once the head and any kept body are known (query-protocol requests carry
 *   their Action in the body, so a form body is always kept);
 * - `keepsRequestBody` / `keepsResponseBody` say whether a body is needed for the record (a
 *   streamed payload such as S3 PutObject's or GetObject's is not, and must never be buffered);
 * - `render` builds the call's record fields, or undefined when the request must not be recorded
 *   (CloudTrail does not record every call).
 */
/** Who made the call, when the forwarding half knows it: resources name the caller's account. */
export interface CallerAccount {
  accountId: string;
}

export interface CallRenderer {
  keepsRequestBody(req: Omit<ProxiedRequest, "body">): boolean;
  place(req: ProxiedRequest): PlacedCall;
  keepsResponseBody(placed: PlacedCall, answer: Omit<UpstreamAnswer, "body">): boolean;
  render(
    placed: PlacedCall,
    req: ProxiedRequest,
    answer: UpstreamAnswer,
    caller?: CallerAccount,
  ): RenderedCall | undefined;
}
