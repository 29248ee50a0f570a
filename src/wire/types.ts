export type { RawRequest } from "../api/requests.ts";

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}
