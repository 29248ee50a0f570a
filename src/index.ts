export * from "./api/index.ts";
export { type HttpClientOptions, httpClient } from "./client/http.ts";
export { IN_PROCESS_USER_AGENT, type InProcessOptions, inProcessClient } from "./client/in-process.ts";
export { type Config, loadConfig } from "./config/index.ts";
export { type OpenTrail, startOpenTrail } from "./main.ts";
export { buildService, type Service, type ServiceDeps } from "./service/index.ts";
