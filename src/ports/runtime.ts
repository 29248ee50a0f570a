/** The clock and id source every layer uses; defined beside the request context that carries them. */
export type { Clock, Ids } from "../api/context.ts";
