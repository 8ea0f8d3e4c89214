/**
 * Every byte budget of the task store, defined once, and the arithmetic that keeps each
 * row and each response under the RDS Data API's limits. The Aurora User Guide (Data API
 * limitations, docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/data-api.limitations.html)
 * says: "The Data API size limit is 64 KB per row in the result set returned by the
 * database" and "The maximum size of the database response ... is 1 MiB". Both count the
 * data as the database returns it, i.e. as PostgreSQL PRINTS each value, which for jsonb is
 * not the compact JSON a caller sent: `", "` and `": "` separators (a 32,769-byte compact
 * array of `1,` printed as 49,152 bytes, 1.5×) and numbers written out in full (`1e+308`
 * prints as 309 digits). So every JSON budget here is in printed bytes: measured in TS by
 * ./printedJson.ts (proved equal to `octet_length(x::jsonb::text)` by
 * test/integration/store/printedJson.test.ts), and in SQL by `octet_length(col::text)`.
 *
 * The widest row (every statement returns at most these columns), in printed bytes:
 *
 *   input                           INLINE_INPUT_BYTES             24,576
 *   result                          INLINE_RESULT_BYTES            20,480
 *   error    ERROR_MAX_CHARS (4,000) × 3 bytes (a UTF-16 unit is
 *            at most 3 UTF-8 bytes) + 50 bytes the settle may
 *            prefix ("cancelled while running; ...")  ERROR_MAX_BYTES 12,100
 *   6 text columns (owner, type, title, model, idempotency_key,
 *            lease_owner), each ≤ 255 units × 3     TEXT_COLUMNS_MAX  4,590
 *   the rest: id 36, status 11, 3 × int4 11, bool 1,
 *            8 timestamps × 34 ("275760-09-13 00:00:00.000000+00" and
 *            BC dates), and sync's `kind` or list's `fetched` ≤ 20
 *                                        FIXED_COLUMNS_MAX_BYTES     400
 *                                                                   ------
 *                                                ROW_MAX_BYTES      62,146  ≤ ROW_LIMIT 64,000
 *
 * (64,000, not 65,536: AWS writes "64 KB" without saying which.)
 *
 * Responses (RESPONSE_LIMIT, 1 MiB):
 * - get: one row.
 * - list: a page stops (with a cursor) once its rows' printed bytes (each row's input,
 *   result, error and text columns measured in SQL, plus FIXED_COLUMNS_MAX_BYTES) reach
 *   PAGE_BYTES; a page is at most PAGE_BYTES + ROW_MAX_BYTES = 455,362 bytes, under half of
 *   1 MiB, so even a count that included the response's JSON escaping (≤ 2× for printed
 *   JSON) would fit.
 * - sync: settled rows (no input/result: ≤ SETTLED_ROW_MAX_BYTES each), lease rows
 *   (LEASE_ROW_MAX_BYTES each), up to RECOVERY_BATCH recovered rows (≤
 *   RECOVERED_ROW_MAX_BYTES each: their error is SQL's own, ≤ 113 bytes + a lease owner) and
 *   the claimed rows, whole, which the claim's `fitting` CTE measures in SQL and keeps
 *   within claimBytesFor() (see there): what is left of 1 MiB after the other rows, at
 *   most CLAIM_BYTES.
 */

/** The Data API's limit on one result row (see the file comment). */
export const ROW_LIMIT = 64_000;
/** The Data API's limit on one response. */
export const RESPONSE_LIMIT = 1024 * 1024;

/** Largest task input stored inline, as PostgreSQL prints it (jsonb text, UTF-8 bytes). */
export const INLINE_INPUT_BYTES = 24 * 1024;
/** Largest task result stored inline, as PostgreSQL prints it; a bigger one fails the task. */
export const INLINE_RESULT_BYTES = 20 * 1024;
/** Error texts are cut to this many UTF-16 units (they come from LLM servers and exceptions). */
export const ERROR_MAX_CHARS = 4000;
/** Owner, type, title, model, idempotency key and worker id: at most this many UTF-16 units. */
export const TEXT_MAX_CHARS = 255;

/** A UTF-16 code unit is at most 3 UTF-8 bytes (a surrogate pair, 2 units, is 4 bytes). */
const UTF8_PER_UNIT = 3;
/** The longest text the settle writes around an executor's error (syncTasks.ts). */
const ERROR_PREFIX_BYTES = 50;
export const ERROR_MAX_BYTES = 12_100;
/** The six caller- or worker-named text columns of a row at their maximum. */
export const TEXT_COLUMNS_MAX_BYTES = 6 * TEXT_MAX_CHARS * UTF8_PER_UNIT;
/** Every fixed-width column of a row, printed, with room to spare (see the file comment). */
export const FIXED_COLUMNS_MAX_BYTES = 400;

export const ROW_MAX_BYTES =
  INLINE_INPUT_BYTES +
  INLINE_RESULT_BYTES +
  ERROR_MAX_BYTES +
  TEXT_COLUMNS_MAX_BYTES +
  FIXED_COLUMNS_MAX_BYTES;

/** A list page stops early once its rows reach this many printed bytes. */
export const PAGE_BYTES = 384 * 1024;
/** A claim keeps the prefix of the claim order whose whole rows fit in this many bytes. */
export const CLAIM_BYTES = 256 * 1024;

/** Expired leases recovered per sync (syncTasks.ts); their rows count against the response. */
export const RECOVERY_BATCH = 50;
/** A settled row: no input or result. */
export const SETTLED_ROW_MAX_BYTES =
  ERROR_MAX_BYTES + TEXT_COLUMNS_MAX_BYTES + FIXED_COLUMNS_MAX_BYTES;
/** A recovered row: no input or result; its error is SQL's (≤ 113 bytes + a lease owner). */
export const RECOVERED_ROW_MAX_BYTES =
  113 + TEXT_MAX_CHARS * UTF8_PER_UNIT + TEXT_COLUMNS_MAX_BYTES + FIXED_COLUMNS_MAX_BYTES;
/** A lease row: id, cancel flag, expiry, kind. */
export const LEASE_ROW_MAX_BYTES = 100;

/**
 * The claim's byte budget for one sync: what is left of the response after the rows that
 * come back besides the claimed ones, minus one row (the claim always keeps its first row,
 * whatever its size), at most `maxClaimBytes`. Zero or less: claim nothing this time (the
 * settles shrink the next sync's other rows).
 */
export function claimBytesFor(outcomes: number, heartbeats: number, maxClaimBytes: number) {
  const others =
    outcomes * SETTLED_ROW_MAX_BYTES +
    heartbeats * LEASE_ROW_MAX_BYTES +
    RECOVERY_BATCH * RECOVERED_ROW_MAX_BYTES;
  return Math.min(maxClaimBytes, RESPONSE_LIMIT - others - ROW_MAX_BYTES);
}

// The arithmetic above, checked where it is written: a budget changed past a limit fails
// at import, in every test.
if (ERROR_MAX_CHARS * UTF8_PER_UNIT + ERROR_PREFIX_BYTES > ERROR_MAX_BYTES) {
  throw new Error("byteBudgets: ERROR_MAX_BYTES is below the longest error text");
}
if (ROW_MAX_BYTES > ROW_LIMIT) {
  throw new Error(`byteBudgets: the widest row (${ROW_MAX_BYTES} bytes) is over ${ROW_LIMIT}`);
}
if (PAGE_BYTES + ROW_MAX_BYTES > RESPONSE_LIMIT / 2) {
  throw new Error("byteBudgets: a list page could pass half the response limit");
}
