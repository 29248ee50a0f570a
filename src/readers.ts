/*
 * The bucket readers of validate-logs, for the CLI: a composition root of its own beside main.ts,
 * so that validate-logs starts without loading the service.
 */
export { localObjectReader } from "./adapters/localfs/reader.ts";
export { s3Reader } from "./adapters/s3/reader.ts";
