import type { CallerFacts, RequestContext } from "./context.ts";
import type { CloudTrailError } from "./errors.ts";
import type { OperationName, OpInput, OpOutput } from "./operations.ts";

/** One finished call to the API, as the wire layer saw it: what the recorder is told. */
export interface FinishedCall {
  operation: OperationName;
  /** The request as received; `object` so that the SDK's request interfaces are accepted as they are. */
  input: object;
  output?: unknown;
  error?: CloudTrailError;
  ctx: RequestContext;
  caller: CallerFacts;
}

/** One handler signature for every operation. */
export type Handler<O extends OperationName> = (
  ctx: RequestContext,
  input: OpInput<O>,
) => Promise<OpOutput<O>>;

/** The service: every operation, taking a request context. */
export type Service = { [O in OperationName]: Handler<O> };
