import type { IncomingMessage, Server, ServerResponse } from "node:http";
import type { Socket } from "node:net";
import type { Logger } from "pino";
import type { ErrorCode } from "../api/index.ts";

/**
 * Open connections at most. Each holds a file descriptor; slow clients that never finish their
 * headers must not be able to take them all (ulimit -n is often 1,024).
 */
export const DEFAULT_MAX_CONNECTIONS = 512;

/** How long a socket answered with an HTTP-level error may linger before it is destroyed. */
export const LINGER_MS = 2_000;

/**
 * Keeps at most `max` connections open. When a new one would pass the bound, the oldest
 * connection with no request in progress (idle keep-alive, or still sending its headers) is
 * dropped to make room, so ordinary calls are served while slow clients hog sockets; when every
 * connection is serving a request, the new one is dropped instead.
 */
export function boundConnections(server: Server, max: number, log: Logger): void {
  // insertion order is age: the first entries are the oldest connections
  const open = new Map<Socket, { requests: number }>();
  server.on("connection", (socket: Socket) => {
    const entry = { requests: 0 };
    open.set(socket, entry);
    socket.once("close", () => open.delete(socket));
    if (open.size <= max) return;
    for (const [other, state] of open) {
      if (other !== socket && state.requests === 0) {
        log.debug({ remoteAddress: other.remoteAddress }, "dropping an idle connection for a new one");
        open.delete(other);
        other.destroy();
        return;
      }
    }
    log.warn({ open: open.size }, "connection limit reached; refusing a connection");
    open.delete(socket);
    socket.destroy();
  });
  server.on("request", (req: IncomingMessage, res: ServerResponse) => {
    const entry = open.get(req.socket);
    if (entry === undefined) return;
    entry.requests++;
    res.once("close", () => entry.requests--);
  });
}

/**
 * Answers an HTTP-level failure (unparsable request, header or request timeout) on the raw
 * socket and makes sure the socket goes away: a peer that never closes its side would otherwise
 * keep the descriptor in FIN-WAIT-2 forever.
 */
export function answerAndDrop(socket: Socket, statusLine: string, code: ErrorCode, message: string): void {
  if (!socket.writable || socket.destroyed) {
    socket.destroy();
    return;
  }
  // the AWS error shape, as every other answer of this server
  const body = JSON.stringify({ __type: code, message });
  socket.end(
    `HTTP/1.1 ${statusLine}\r\nConnection: close\r\nContent-Type: application/json\r\n` +
      `x-amzn-ErrorType: ${code}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
  const timer = setTimeout(() => socket.destroy(), LINGER_MS);
  timer.unref();
  socket.once("close", () => clearTimeout(timer));
}
