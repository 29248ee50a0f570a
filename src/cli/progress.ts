/** A stream a progress line is drawn on: a terminal's stderr. */
export interface TerminalStream {
  write(text: string): unknown;
}

/** `[#####.....]` of `width` cells, `fraction` of them filled. */
export function bar(fraction: number, width = 30): string {
  const done = Math.round(Math.min(1, Math.max(0, fraction)) * width);
  return `[${"#".repeat(done)}${".".repeat(width - done)}]`;
}

/**
 * A one-line progress display redrawn in place on a terminal. Every other write to the terminal
 * goes through `write` (stdout and stderr share the screen): the line is erased before it and drawn
 * again after it only when the cursor is back at the start of a line, so a line written in pieces
 * (the summary's `\n16/16 digest files valid`) is never drawn over and then erased with the bar.
 */
export function progressLine(terminal: TerminalStream, minIntervalMs = 100, now = () => Date.now()) {
  let shown = false;
  let atLineStart = true;
  let stopped = false;
  let last = Number.NEGATIVE_INFINITY;
  let latest: string | undefined;
  const clear = () => {
    if (shown) terminal.write("\r\x1b[K");
    shown = false;
  };
  const draw = () => {
    if (latest === undefined || !atLineStart || stopped) return;
    terminal.write(latest);
    shown = true;
  };
  return {
    /** The latest progress text; drawn at most once per `minIntervalMs`. */
    update(text: string) {
      latest = text;
      const t = now();
      if (t - last < minIntervalMs) return;
      last = t;
      clear();
      draw();
    },
    /** Writes `text` with `writeText`, out of the line's way. */
    write(writeText: (text: string) => unknown, text: string) {
      if (text === "") return;
      clear();
      writeText(text);
      atLineStart = text.endsWith("\n");
      draw();
    },
    /** Erases the line for good: nothing is drawn after this. */
    stop() {
      clear();
      stopped = true;
    },
  };
}

export type ProgressLine = ReturnType<typeof progressLine>;
