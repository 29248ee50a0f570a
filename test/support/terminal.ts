/**
 * What a terminal shows after a stream of writes: enough of a VT100 for progress lines (`\r`,
 * `\n` as a terminal with onlcr shows it, and `ESC [ K`, erase to the end of the line).
 */
export class Screen {
  readonly lines: string[] = [""];
  #row = 0;
  #col = 0;
  readonly isTTY = true;

  write(text: string): boolean {
    for (let i = 0; i < text.length; i++) {
      const c = text[i]!;
      if (c === "\n") {
        this.#row++;
        this.#col = 0;
        if (this.lines.length <= this.#row) this.lines.push("");
      } else if (c === "\r") {
        this.#col = 0;
      } else if (c === "\x1b" && text.startsWith("\x1b[K", i)) {
        this.lines[this.#row] = this.lines[this.#row]!.slice(0, this.#col);
        i += 2;
      } else {
        const line = this.lines[this.#row]!.padEnd(this.#col);
        this.lines[this.#row] = line.slice(0, this.#col) + c + line.slice(this.#col + 1);
        this.#col++;
      }
    }
    return true;
  }

  /** The screen's text, lines joined by `\n`. */
  text(): string {
    return this.lines.join("\n");
  }
}
