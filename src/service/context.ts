import type { Logger } from "pino";
import type { Clock, Ids, Principal } from "../ports/index.ts";

/** What every handler gets: who calls, where, and the request's id, logger, clock and ids. */
export interface RequestContext {
  accountId: string;
  region: string;
  principal: Principal;
  requestId: string;
  log: Logger;
  clock: Clock;
  ids: Ids;
}
