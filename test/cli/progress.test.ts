import { describe, expect, it } from "vitest";
import { bar, progressLine } from "../../src/cli/progress.ts";
import { Screen } from "../support/terminal.ts";

describe("progress line", () => {
  it("never draws over a line written in pieces, so the summary stays on screen", () => {
    const screen = new Screen();
    const line = progressLine(screen, 0);
    const out = (t: string) => line.write((x) => screen.write(x), t);
    out("Validating log files\n\n");
    line.update(`${bar(0.5)} 1 digest files`);
    out("Results requested for A to B\n");
    out("Results found for A to B:\n");
    // the summary's lines start with their newline and end without one
    out("\n16/16 digest files valid");
    line.update(`${bar(1)} 16 digest files`);
    out("\n40/40 log files valid");
    line.update(`${bar(1)} 16 digest files`);
    out("\n");
    line.stop();
    expect(screen.text()).toBe(
      [
        "Validating log files",
        "",
        "Results requested for A to B",
        "Results found for A to B:",
        "",
        "16/16 digest files valid",
        "40/40 log files valid",
        "",
      ].join("\n"),
    );
  });

  it("shows the latest progress while nothing else is written, and erases it when stopped", () => {
    const screen = new Screen();
    let t = 0;
    const line = progressLine(screen, 100, () => t);
    line.update("first");
    t = 50;
    line.update("too soon");
    expect(screen.text()).toBe("first");
    t = 200;
    line.update("second, longer");
    expect(screen.text()).toBe("second, longer");
    line.write((x) => screen.write(x), "a verdict\n");
    expect(screen.text()).toBe("a verdict\nsecond, longer");
    line.stop();
    line.update("after the end");
    expect(screen.text()).toBe("a verdict\n");
  });

  it("draws a bar of its width", () => {
    expect(bar(0.5, 10)).toBe("[#####.....]");
    expect(bar(2, 4)).toBe("[####]");
  });
});
