import type { OperationName, OpInput, OpOutput } from "../api/index.ts";
import type { EventStore, ObjectStore, TrailRepo } from "../ports/index.ts";
import type { RequestContext } from "./context.ts";

/** What the operations need from the outside world. */
export interface ServiceDeps {
  trails: TrailRepo;
  objects: ObjectStore;
  /** Recorded events: event history and the source of delivery. */
  events: EventStore;
  /** Regions this deployment serves; multi-Region trails appear in each. */
  regions: readonly string[];
}

/** One handler signature for every operation. */
export type Handler<O extends OperationName> = (
  ctx: RequestContext,
  input: OpInput<O>,
) => Promise<OpOutput<O>>;

/** The service: every operation, taking a request context. */
export type Service = { [O in OperationName]: Handler<O> };
