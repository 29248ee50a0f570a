import { fail } from "../api/errors.ts";
import type { OperationName } from "../api/operations.ts";
import type { Handler } from "../api/service.ts";

/** An operation whose machinery has not landed yet answers with an honest error, never an empty success. */
export function notYetAvailable<O extends OperationName>(op: O): Handler<O> {
  return async () => {
    throw fail("UnsupportedOperationException", `${op} is not available in this version of opentrail yet.`);
  };
}
