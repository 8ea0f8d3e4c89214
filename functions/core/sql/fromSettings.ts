import { RDSDataClient } from "@aws-sdk/client-rds-data";
import type { DatabaseSettings } from "../config/settings";
import type { Logger } from "../telemetry/ports";
import { createDataApiSqlPort, type ResumeOptions } from "./dataApiAdapter";
import { createPgSqlPort, type PgSqlPortOptions } from "./pgAdapter";
import type { SqlPort } from "./port";

/**
 * The SQL port the settings ask for: node-postgres when DATABASE_URL is set (local runtime,
 * tests, `npm run migrate` against a reachable server), else the RDS Data API on
 * DB_CLUSTER_ARN with DB_SECRET_ARN and DB_NAME (the Lambdas).
 */
export interface SqlPortFactoryOptions {
  /** The Data API client; one per container. Created (and destroyed on close) when absent. */
  client?: RDSDataClient;
  /** How long the Data API adapter waits for a cluster resuming from 0 ACU. */
  resume?: ResumeOptions;
  /** node-postgres pool options besides the connection string. */
  pg?: Omit<PgSqlPortOptions, "connectionString">;
  logger?: Logger;
}

export function createSqlPort(
  settings: DatabaseSettings,
  options: SqlPortFactoryOptions = {},
): SqlPort {
  if (settings.DATABASE_URL) {
    const logger = options.logger;
    return createPgSqlPort({
      onIdleError: (error) =>
        logger?.warn("idle database connection failed", { error: error.message }),
      ...options.pg,
      connectionString: settings.DATABASE_URL,
    });
  }
  const { DB_CLUSTER_ARN, DB_SECRET_ARN, DB_NAME } = settings;
  if (!DB_CLUSTER_ARN || !DB_SECRET_ARN) {
    // DatabaseSettingsSchema already refuses this; kept for settings built by hand.
    throw new Error("DATABASE_URL, or DB_CLUSTER_ARN and DB_SECRET_ARN, must be set");
  }
  const client = options.client ?? createDataApiClient();
  const port = createDataApiSqlPort({
    client,
    resourceArn: DB_CLUSTER_ARN,
    secretArn: DB_SECRET_ARN,
    database: DB_NAME,
    resume: options.resume,
    logger: options.logger,
  });
  if (options.client) return port;
  return {
    ...port,
    async close() {
      await port.close();
      client.destroy();
    },
  };
}

/**
 * A Data API client with bounded waits: the Data API cancels a statement after 45 s, so a
 * call silent for 60 s is lost and better failed than left hanging a Lambda.
 */
export function createDataApiClient(): RDSDataClient {
  return new RDSDataClient({
    requestHandler: { connectionTimeout: 5_000, requestTimeout: 60_000 },
  });
}
