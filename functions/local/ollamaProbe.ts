/**
 * Asks the Ollama server for its version (`GET /api/version`) with a short timeout, for the
 * startup banner. Its absence is reported, never fatal: tasks then fail and retry with a
 * clear error until it is started.
 */

export type OllamaProbe =
  | { reachable: true; version: string }
  | { reachable: false; reason: string };

export async function probeOllama(host: string, timeoutMs = 1_500): Promise<OllamaProbe> {
  const url = new URL("/api/version", host);
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    if (!response.ok) return { reachable: false, reason: `answered ${response.status}` };
    const body = (await response.json().catch(() => ({}))) as { version?: unknown };
    return {
      reachable: true,
      version: typeof body.version === "string" ? body.version : "unknown",
    };
  } catch (error) {
    const name = error instanceof Error ? error.name : "";
    if (name === "TimeoutError")
      return { reachable: false, reason: `no answer within ${timeoutMs} ms` };
    const cause = (error as { cause?: { code?: string } }).cause?.code;
    return {
      reachable: false,
      reason: cause ?? (error instanceof Error ? error.message : String(error)),
    };
  }
}
