/*
 * `opentrail copy-data`, for the CLI: a composition root of its own beside main.ts, so that the
 * command loads the two backends and nothing of the service.
 */
export {
  type CopyProgress,
  CopyRefused,
  type CopySummary,
  copyDataToPostgres,
} from "./adapters/copy-data.ts";
