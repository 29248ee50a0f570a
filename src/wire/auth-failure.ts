/** Why a request's signature is refused; the proxy words each reason in the service's own format. */
export type AuthFailureReason =
  /** Authorization header or presign query unparsable or missing parts. */
  | "incomplete"
  /** X-Amz-Date not in ISO-8601 basic format. */
  | "badDate"
  /** Header form: the date is more than 15 minutes from now. */
  | "skew"
  /** Presigned: X-Amz-Date + X-Amz-Expires has passed. */
  | "expired"
  | "unknownKey"
  | "mismatch"
  | "badToken"
  /** The body does not hash to the declared x-amz-content-sha256. */
  | "contentHash"
  /** Another algorithm (SigV2, SigV4a). */
  | "unsupported";

export class AuthFailure extends Error {
  readonly reason: AuthFailureReason;
  constructor(reason: AuthFailureReason, message: string) {
    super(message);
    this.reason = reason;
  }
}
