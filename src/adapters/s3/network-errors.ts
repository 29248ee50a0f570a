/**
 * Errors of a connection, not of the server's answer: no answer came from the endpoint. The SDK
 * store reports them as ServiceUnavailable; the reader also tries again on a fresh socket.
 */
const NETWORK_ERROR_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ECONNABORTED",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EPIPE",
  "ETIMEDOUT",
]);

/** Whether `code` (an error's `code` member) names a network error. */
export function isNetworkErrorCode(code: unknown): boolean {
  return NETWORK_ERROR_CODES.has(String(code));
}

/** Whether `e` is an error of the connection (by its `code`). */
export function isNetworkError(e: unknown): boolean {
  return typeof e === "object" && e !== null && "code" in e && isNetworkErrorCode(e.code);
}
