export * from "./errors.ts";
export * from "./operations.ts";
