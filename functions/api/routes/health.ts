import { jsonResponse } from "../http";
import type { PublicHandler } from "../router";
import { type HealthView, HealthViewSchema } from "../schemas";

/**
 * GET /api/health: liveness plus whether the database answers `SELECT 1` within
 * HEALTH_TIMEOUT_MS (2 s by default). A health check that waits as long as a real query
 * may (the Data API's 45 s) tells a load balancer nothing in time; a slow database counts
 * as unavailable here. No token needed.
 */
export const healthRoute: PublicHandler = {
  docs: {
    summary: "Liveness and database reachability",
    tags: ["health"],
    responses: {
      200: { description: "Up, and the database answers.", schema: HealthViewSchema },
      503: { description: "The database does not answer in time.", schema: HealthViewSchema },
    },
    errors: [],
  },

  async handle({ context }, deps) {
    const timeoutMs = deps.settings.api.HEALTH_TIMEOUT_MS;
    const problem = await checkDatabase(() => deps.sql.query("SELECT 1 AS ok"), timeoutMs);
    if (problem === undefined) {
      const body: HealthView = { status: "ok", database: "ok", requestId: context.requestId };
      return jsonResponse(200, body);
    }
    context.logger.warn("health check: database unavailable", { problem });
    const body: HealthView = {
      status: "unavailable",
      database: "unavailable",
      error: {
        code: "database_unavailable",
        message: "the database is unavailable",
      },
      requestId: context.requestId,
    };
    return jsonResponse(503, body, { "retry-after": "5" });
  },
};

/** undefined when `probe` resolves within `timeoutMs`; else what went wrong (for the log). */
async function checkDatabase(probe: () => Promise<unknown>, timeoutMs: number) {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<string>((resolve) => {
    timer = setTimeout(() => resolve(`no answer within ${timeoutMs} ms`), timeoutMs);
  });
  try {
    return await Promise.race([
      probe().then(
        () => undefined,
        (error: unknown) => (error instanceof Error ? error.message : String(error)),
      ),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}
