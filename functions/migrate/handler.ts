import { join } from "node:path";
import type { CloudFormationCustomResourceEvent, Context } from "aws-lambda";
import { DatabaseSettingsSchema, readSettings } from "../core/config/settings";
import { loadMigrations, migrate } from "../core/migrations/runner";
import { createSqlPort } from "../core/sql/fromSettings";
import { createServiceLogger } from "../core/telemetry/logger";

/**
 * The onEvent handler of the `custom-resources` Provider that applies `migrations/` on
 * every deploy. Create and Update apply what is pending (the runner skips what is applied
 * and is safe against a concurrent runner); Delete leaves the database alone, since the
 * data outlives the stack's migration resource.
 *
 * The physical id never changes: a new one on Update would make CloudFormation send a
 * Delete for the old one.
 */
export const PHYSICAL_RESOURCE_ID = "task-pipeline-migrations";

/**
 * The cluster may sit at 0 ACU during a deploy; waking takes ~15 s, rarely much more. Wait
 * up to 3 minutes: long enough for a slow resume, short enough that the function (5-minute
 * timeout in lib/migrations.ts) still has time to migrate and to fail with a clear message
 * rather than a Lambda timeout.
 */
const RESUME_WAIT_MS = 3 * 60_000;

// Once per container (cold start): settings fail here naming the bad one.
const settings = readSettings(DatabaseSettingsSchema);
const logger = createServiceLogger({
  service: "migrate",
  environment: process.env.PIPELINE_ENV ?? "local",
});
const sql = createSqlPort(settings, { resume: { maxWaitMs: RESUME_WAIT_MS }, logger });
// The CDK bundling copies migrations/*.sql into the bundle's migrations/ folder.
const migrationsDir =
  process.env.MIGRATIONS_DIR ?? join(process.env.LAMBDA_TASK_ROOT ?? process.cwd(), "migrations");

export interface MigrateResponse {
  PhysicalResourceId: string;
  Data?: { Applied: string };
}

export const handler = async (
  event: CloudFormationCustomResourceEvent,
  context?: Pick<Context, "awsRequestId">,
): Promise<MigrateResponse> => {
  logger.beginInvocation({ awsRequestId: context?.awsRequestId ?? event.RequestId });
  if (event.RequestType === "Delete") {
    logger.info("delete: database left as it is");
    return { PhysicalResourceId: event.PhysicalResourceId };
  }
  try {
    const report = await migrate(sql, await loadMigrations(migrationsDir));
    logger.info("migrations applied", {
      requestType: event.RequestType,
      applied: report.applied,
      alreadyApplied: report.skipped.length,
    });
    return {
      PhysicalResourceId: PHYSICAL_RESOURCE_ID,
      Data: { Applied: String(report.applied.length) },
    };
  } catch (error) {
    // The Provider reports the message to CloudFormation, which shows it in the stack events.
    logger.error("migrations failed", { error });
    throw error;
  }
};
