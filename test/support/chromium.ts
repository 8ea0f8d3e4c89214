import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";

/**
 * Debian's Chromium for the browser tests (driven by playwright-core): installed when
 * missing and this runs as root with apt, else the tests skip with the printed reason.
 */

export const CHROMIUM_PATH = "/usr/bin/chromium";

/** The flags the browser tests run Chromium with: headless, no sandbox (root in a container), quiet. */
export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** undefined when Chromium is there (installing it if it can), else why the tests skip. */
export function ensureChromium(): string | undefined {
  if (existsSync(CHROMIUM_PATH)) return undefined;
  const root = process.getuid?.() === 0;
  const apt = existsSync("/usr/bin/apt-get");
  if (!(root && apt)) {
    return `${CHROMIUM_PATH} is missing and cannot be installed here (${root ? "no apt-get" : "not root"}): install Debian's chromium package`;
  }
  try {
    execFileSync("apt-get", ["install", "-y", "chromium"], { stdio: "ignore", timeout: 600_000 });
  } catch (error) {
    return `apt-get install -y chromium failed: ${(error as Error).message}`;
  }
  return existsSync(CHROMIUM_PATH) ? undefined : `${CHROMIUM_PATH} still missing after apt-get`;
}
