import { type Logger, pino } from "pino";
import { PinoPretty } from "pino-pretty";

export interface LoggerOptions {
  level: string;
  /** File descriptor the lines go to: 1 (stdout, the server's default) or 2. */
  fd?: 1 | 2;
  /** Human-readable lines (pino-pretty) instead of one JSON object a line. */
  pretty?: boolean;
}

/**
 * The server's logger: JSON lines for collectors, or pino-pretty's coloured lines for a person at
 * a terminal. `opentrail serve` asks for pretty lines only when its output is a terminal, so a pipe
 * or a file always gets JSON.
 */
export function createLogger(opts: LoggerOptions): Logger {
  const fd = opts.fd ?? 1;
  if (!opts.pretty) return pino({ level: opts.level }, pino.destination(fd));
  return pino(
    { level: opts.level },
    PinoPretty({
      destination: fd,
      sync: true,
      colorize: true,
      translateTime: "SYS:HH:MM:ss.l",
      ignore: "pid,hostname",
    }),
  );
}
