import type { RequestContext } from "./context.ts";
import type { OperationName, OpInput, OpOutput } from "./operations.ts";

/** One handler signature for every operation. */
export type Handler<O extends OperationName> = (
  ctx: RequestContext,
  input: OpInput<O>,
) => Promise<OpOutput<O>>;

/** The service: every operation, taking a request context. */
export type Service = { [O in OperationName]: Handler<O> };
