import { httpClient } from "../../src/client/http.ts";
import type { Clock } from "../../src/ports/index.ts";

/**
 * An API client (development key) that signs at the service's own clock, which a test steps:
 * the service checks signature dates against that clock. Take a fresh one per call: the SDK
 * corrects its clock offset from response dates, which follow real time.
 */
export function clockedClient(endpoint: string, clock: Clock): ReturnType<typeof httpClient> {
  const c = httpClient({ endpoint, credentials: { accessKeyId: "test", secretAccessKey: "test" } });
  c.client.config.systemClockOffset = clock.now().getTime() - Date.now();
  return c;
}
