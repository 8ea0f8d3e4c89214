/**
 * SQLSTATEs the SQL adapters classify, listed once. Both adapters turn the first list into
 * DatabaseUnavailableError (the API answers 503 with Retry-After; the node-postgres adapter
 * also discards the connection); the Data API adapter adds the second, whose statements
 * may well succeed when sent again.
 */

/** "The database is not there right now": shutting down, starting, full, or unreachable. */
export const UNAVAILABLE_SQL_STATES: ReadonlySet<string> = new Set([
  "57P01", // admin_shutdown (backend terminated)
  "57P02", // crash_shutdown
  "57P03", // cannot_connect_now (starting up)
  "53300", // too_many_connections
  "08000",
  "08003",
  "08006",
  "08001",
  "08004",
]);

/**
 * Also worth a retry: a transaction that lost a race (40001 serialization_failure, 40P01
 * deadlock_detected) and a statement cancelled by its timeout (57014 query_canceled). Through
 * the Data API these arrive inside a DatabaseErrorException's message (or the deprecated
 * BadRequestException's), except the Data API's own 45 s timeout, which is
 * StatementTimeoutException (RETRY_LATER_ERRORS in dataApiAdapter.ts).
 */
export const RETRY_LATER_SQL_STATES: ReadonlySet<string> = new Set([
  ...UNAVAILABLE_SQL_STATES,
  "40001",
  "40P01",
  "57014",
]);
