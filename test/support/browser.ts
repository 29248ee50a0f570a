import { existsSync } from "node:fs";
import { type Browser, chromium } from "playwright-core";

/** Debian's Chromium, which `.ci/run` installs with apt-get. */
export const CHROMIUM = "/usr/bin/chromium";

/** Browser suites run where Chromium is, and always in CI (where its absence is a failure). */
export const haveBrowser = existsSync(CHROMIUM) || process.env.CI !== undefined;

/** Chromium headless, with the switches that keep it from calling out or needing a sandbox. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
    ],
  });
}
