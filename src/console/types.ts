import type { CallerFacts, Principal } from "../api/context.ts";
import type { CloudTrailApi } from "../api/operations.ts";

export type { RawRequest as ConsoleRequest } from "../api/requests.ts";

export interface ConsoleResponse {
  status: number;
  /** Set-Cookie may repeat. */
  headers: Record<string, string | string[]>;
  body: string;
}

/** A delivered log file, as the trails page lists it. */
export interface DeliveredLogFile {
  bucket: string;
  key: string;
  deliveredAt: Date;
}

/** What the console needs of the service; main.ts builds it. */
export interface ConsoleBackend {
  /** The principal of a key pair whose secret matches; undefined otherwise. */
  signIn(accessKeyId: string, secretAccessKey: string): Principal | undefined;
  /** Development mode: who a visitor on loopback is signed in as, without a form. */
  developmentPrincipal: Principal | undefined;
  regions: readonly string[];
  /** The CloudTrail API as this principal, in this region; every call is recorded as a console call. */
  api(principal: Principal, region: string, caller: CallerFacts): CloudTrailApi;
  /** Log files delivered for a trail in a region since a time, newest first. */
  deliveredFiles(trailArn: string, region: string, since: Date): Promise<DeliveredLogFile[]>;
  now(): Date;
}
