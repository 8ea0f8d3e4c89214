/**
 * Every byte budget of the task store, defined once, and the arithmetic that keeps each
 * row and each response under the RDS Data API's limits. The Aurora User Guide (Data API
 * limitations, docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/data-api.limitations.html)
 * says: "The Data API size limit is 64 KB per row in the result set returned by the
 * database" and "The response size limit is 1 MiB". Both count the data as the database
 * returns it, i.e. as PostgreSQL PRINTS each value, which for jsonb is not the compact JSON
 * a caller sent: `", "` and `": "` separators (the issue's example: a 32,769-byte compact
 * array came back as 49,152 bytes, 1.5×) and numbers written out in full (`1e+308` prints
 * as 309 digits). So every JSON budget here is in printed bytes: measured in TS by
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
 *            BC dates), sync's `kind` or list's `fetched` ≤ 20, and
 *            progress ≤ PROGRESS_MAX_BYTES 80 (model.ts TaskProgressSchema)
 *                                        FIXED_COLUMNS_MAX_BYTES     480
 *                                                                   ------
 *                                                ROW_MAX_BYTES      62,226  ≤ ROW_LIMIT 64,000
 *
 * (64,000, not 65,536: AWS writes "64 KB" without saying which.)
 *
 * Responses (RESPONSE_LIMIT, 1 MiB). Input, result and error are measured per row in SQL
 * (`octet_length(input::text)`...); every other column of a row is at most
 * OTHER_COLUMNS_MAX_BYTES (TEXT_COLUMNS_MAX_BYTES + FIXED_COLUMNS_MAX_BYTES = 5,070).
 * - get: one row.
 * - list: a page stops (with a cursor) once its rows' inputs, results and errors reach
 *   PAGE_BYTES (its first row always comes): at most PAGE_BYTES + ROW_MAX_BYTES +
 *   PAGE_MAX_ROWS × OTHER_COLUMNS_MAX_BYTES = 393,216 + 62,226 + 507,000 = 962,442.
 * - sync: what comes back besides the claimed rows (settled rows, the id and the columns
 *   that change after a claim; recovered rows, without input and result; lease rows,
 *   LEASE_ROW_MAX_BYTES each) is measured in the statement itself, and the claim's `fitting`
 *   CTE keeps only the claimed rows (measured whole: input, error and text columns, the
 *   worker id the claim writes, plus FIXED_COLUMNS_MAX_BYTES) that fit in what is left of
 *   RESPONSE_LIMIT; within that, their inputs and errors stop at CLAIM_BYTES (so one loop
 *   does not take more work than it should). Measured rather than bounded, because 100
 *   recovered rows at their theoretical maximum (5,868 bytes each) would leave the claim
 *   little room, while real ones are a few hundred bytes.
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
export const FIXED_COLUMNS_MAX_BYTES = 480;
/** A progress report as PostgreSQL prints it, at most (model.ts TaskProgressSchema). */
export const PROGRESS_MAX_BYTES = 80;
/** A row's columns other than input, result and error, at their maximum. */
export const OTHER_COLUMNS_MAX_BYTES = TEXT_COLUMNS_MAX_BYTES + FIXED_COLUMNS_MAX_BYTES;

export const ROW_MAX_BYTES =
  INLINE_INPUT_BYTES +
  INLINE_RESULT_BYTES +
  ERROR_MAX_BYTES +
  TEXT_COLUMNS_MAX_BYTES +
  FIXED_COLUMNS_MAX_BYTES;

/** A list page stops early once its rows' inputs, results and errors reach this many bytes. */
export const PAGE_BYTES = 384 * 1024;
/** The most tasks a list page holds (the API's `limit` is at most this). */
export const PAGE_MAX_ROWS = 100;
/** A claim keeps the prefix of the claim order whose inputs and errors fit in this many bytes. */
export const CLAIM_BYTES = 256 * 1024;

/**
 * Beyond the row: inputs and results over the inline budgets above are kept in the payload
 * store (S3, or a directory locally; ../payloads/claimCheck.ts) with a reference in the
 * row. What bounds them then is Lambda's 6 MB synchronous payload, for the API's request
 * and its response alike (docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html:
 * "Invocation payload (request and response) 6 MB each for synchronous"; measured as
 * 6,291,456 bytes for a response). A GET returns input and result together, and the API
 * base64-encodes any answer over LARGE_RESPONSE_BYTES (exactly 4/3, whatever the JSON's
 * escapes; the Lambda response envelope would otherwise escape every `"` again), so:
 *
 *   input  MAX_INPUT_BYTES 3,145,728 + result MAX_RESULT_BYTES 1,048,576
 *   + a row's other columns (ROW_MAX_BYTES) 62,226 → 4,256,530 × 4/3 = 5,675,374
 *   + headers (< 4 KB)                                             ≤ 6,291,456
 *
 * A list page loads offloaded payloads up to LIST_LOADED_BYTES (its first task always
 * comes whole): PAGE_BYTES' bound 962,442 + 3,145,728 = 4,108,170 × 4/3 = 5,477,560.
 */
/** Largest task input (printed JSON bytes), inline or not; a bigger one is a 413 naming `input`. */
export const MAX_INPUT_BYTES = 3 * 1024 * 1024;
/** Largest task result (printed JSON bytes); a bigger one fails the task with the reason. */
export const MAX_RESULT_BYTES = 1024 * 1024;
/** Offloaded payloads one list page loads, beyond its first task (see above). */
export const LIST_LOADED_BYTES = 3 * 1024 * 1024;
/** API answers over this many bytes go base64-encoded (gzip first, when the client accepts it). */
export const LARGE_RESPONSE_BYTES = 1024 * 1024;
/** Lambda's synchronous response limit, in bytes of the serialized response. */
export const LAMBDA_RESPONSE_LIMIT = 6_291_456;
/** Lambda's synchronous invoke limit on the event ("Request must be smaller than 6291556 bytes"). */
export const LAMBDA_REQUEST_LIMIT = 6_291_556;

/** A lease row: id, cancel flag, expiry and kind, printed; the rest are NULLs. */
export const LEASE_ROW_MAX_BYTES = 100;

// The arithmetic above, checked where it is written: a budget changed past a limit fails
// at import, in every test.
if (ERROR_MAX_CHARS * UTF8_PER_UNIT + ERROR_PREFIX_BYTES > ERROR_MAX_BYTES) {
  throw new Error("byteBudgets: ERROR_MAX_BYTES is below the longest error text");
}
if (ROW_MAX_BYTES > ROW_LIMIT) {
  throw new Error(`byteBudgets: the widest row (${ROW_MAX_BYTES} bytes) is over ${ROW_LIMIT}`);
}
/** The largest list page the SQL returns (see the file comment). */
const LIST_PAGE_MAX = PAGE_BYTES + ROW_MAX_BYTES + PAGE_MAX_ROWS * OTHER_COLUMNS_MAX_BYTES;
if (LIST_PAGE_MAX > RESPONSE_LIMIT) {
  throw new Error("byteBudgets: a list page could pass the response limit");
}
const BASE64 = 4 / 3;
const HEADERS_MAX_BYTES = 4096;
if (
  (MAX_INPUT_BYTES + MAX_RESULT_BYTES + ROW_MAX_BYTES) * BASE64 + HEADERS_MAX_BYTES >
    LAMBDA_RESPONSE_LIMIT ||
  (LIST_PAGE_MAX + LIST_LOADED_BYTES) * BASE64 + HEADERS_MAX_BYTES > LAMBDA_RESPONSE_LIMIT
) {
  throw new Error("byteBudgets: a task or a list page could pass Lambda's response limit");
}
