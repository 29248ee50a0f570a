export type * from "./context.ts";
export * from "./errors.ts";
export * from "./ingest.ts";
export * from "./messages.ts";
export * from "./operations.ts";
export type * from "./service.ts";
export * from "./unserved-operations.ts";
