import type { OllamaProbe } from "./ollamaProbe";

/**
 * What `npm start` prints once it is ready: where the API is, which database and LLM
 * server it uses, and a token and a curl command to try it with at once.
 */
export interface BannerFacts {
  url: string;
  database: string;
  ollamaHost: string;
  ollama: OllamaProbe;
  model: string;
  scheduleIntervalMs: number;
  /** CORS_ORIGINS: a page on any other origin gets only `Failed to fetch` from its browser. */
  corsOrigins: readonly string[];
  tokenSubject: string;
  token: string;
}

export function formatBanner(facts: BannerFacts): string {
  const ollama = facts.ollama.reachable
    ? `${facts.ollamaHost} (answering, version ${facts.ollama.version}; default model ${facts.model})`
    : `${facts.ollamaHost} (NOT answering: ${facts.ollama.reason}; tasks wait until it does)`;
  const body = JSON.stringify({
    type: "summarize",
    input: { text: "Ollama runs language models on your own machine." },
  });
  return [
    "",
    "task-pipeline local runtime is ready",
    "",
    `  API        ${facts.url}/api   (health: ${facts.url}/api/health)`,
    `  database   ${facts.database}`,
    `  ollama     ${ollama}`,
    `  executor   invoked every ${facts.scheduleIntervalMs} ms`,
    `  CORS       browsers may call it from ${facts.corsOrigins.join(", ")} only (CORS_ORIGINS)`,
    `  console    ${facts.url}/   (paste the token below to sign in)`,
    `  real time  ${facts.url.replace(/^http/, "ws")}/event/realtime   (AppSync Events' WebSocket protocol)`,
    "",
    `  a token for caller "${facts.tokenSubject}" (make others with: npm run token -- <caller>):`,
    `  export TOKEN=${facts.token}`,
    "",
    "  try it:",
    `  curl -s -X POST ${facts.url}/api/tasks -H "Authorization: Bearer $TOKEN" \\`,
    `    -H "Content-Type: application/json" -d '${body}'`,
    `  curl -s ${facts.url}/api/tasks -H "Authorization: Bearer $TOKEN"`,
    "",
    "  Ctrl-C stops it: in-flight tasks finish (or go back to pending), then PostgreSQL stops.",
    "",
  ].join("\n");
}
