/**
 * Serves the console (console/: a static page, no build step) at `/`, and its
 * `/config.json`: where the API and the real-time endpoint are, as a deployment would emit
 * it from the stack's outputs. Only the page's own files are served (a fixed list), so no
 * request path reaches the file system.
 */
import { readFileSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import { join, resolve } from "node:path";
import { REALTIME_PATH } from "./realtime/server";

const CONSOLE_DIR = resolve(import.meta.dirname, "../../console");

const FILES: Record<string, { file: string; type: string }> = {
  "/": { file: "index.html", type: "text/html; charset=utf-8" },
  "/index.html": { file: "index.html", type: "text/html; charset=utf-8" },
  "/app.js": { file: "app.js", type: "text/javascript; charset=utf-8" },
  "/style.css": { file: "style.css", type: "text/css; charset=utf-8" },
};

/** What the page reads at start: the same fields a deployment's config.json has. */
export interface ConsoleConfig {
  apiUrl: string;
  /** The WebSocket endpoint, `wss://<realtime domain>/event/realtime` in AWS. */
  realtimeUrl: string;
  /** The `host` the WebSocket authorization names: the Event API's HTTP domain. */
  realtimeHttpHost: string;
}

export function consoleEndpoint(req: IncomingMessage, res: ServerResponse): boolean {
  const method = (req.method ?? "GET").toUpperCase();
  if (method !== "GET" && method !== "HEAD") return false;
  const path = (req.url ?? "/").split("?")[0] ?? "/";
  const host = req.headers.host ?? "localhost";
  if (path === "/config.json") {
    const config: ConsoleConfig = {
      apiUrl: `http://${host}`,
      realtimeUrl: `ws://${host}${REALTIME_PATH}`,
      realtimeHttpHost: host,
    };
    reply(res, "application/json", Buffer.from(JSON.stringify(config)));
    return true;
  }
  const entry = FILES[path];
  if (!entry) return false;
  reply(res, entry.type, readFileSync(join(CONSOLE_DIR, entry.file)));
  return true;
}

function reply(res: ServerResponse, type: string, body: Buffer): void {
  res.writeHead(200, {
    "content-type": type,
    "content-length": body.length,
    "cache-control": "no-store",
    "x-content-type-options": "nosniff",
    // The page loads only its own files and talks only to this origin (HTTP and WebSocket).
    "content-security-policy":
      "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; frame-ancestors 'none'",
  });
  res.end(body);
}
