/*
 * The ports, one file per family; this index only gathers them for callers that use several.
 */
export * from "./aws.ts";
export * from "./credentials.ts";
export * from "./delivery.ts";
export * from "./digests.ts";
export * from "./events.ts";
export * from "./insights.ts";
export * from "./keys.ts";
export * from "./leases.ts";
export * from "./objects.ts";
export * from "./runtime.ts";
export * from "./trails.ts";
