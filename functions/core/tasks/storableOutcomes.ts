/**
 * Makes an executor's outcomes storable before they reach SQL. A result too big for a row
 * (over INLINE_RESULT_BYTES as PostgreSQL prints it, see ./byteBudgets.ts: the Data API
 * refuses rows over 64 KB) or one jsonb cannot hold turns into a failure
 * with the reason: that task ends failed with an explanation, rather than the whole round
 * trip failing on every retry. Error texts are capped (they come from LLM servers and
 * exceptions of any length) and cleaned of NUL characters.
 *
 * Malformed ids are dropped: no lease can be held on them, so they would match nothing.
 * Two outcomes for one task, an unknown status or a retry without runAt are the caller's
 * bug: ValidationError naming the outcome's field.
 */
import { fieldError } from "../fieldIssues";
import { ERROR_MAX_CHARS } from "./byteBudgets";
import type { TaskOutcome } from "./model";
import { isUuid, jsonProblem, storableText } from "./storeInputChecks";

const STATUSES = new Set(["completed", "pending", "failed", "cancelled"]);

export function storableOutcomes(
  outcomes: readonly TaskOutcome[],
  maxResultBytes: number,
): TaskOutcome[] {
  const seen = new Set<string>();
  const storable: TaskOutcome[] = [];
  for (const [index, outcome] of outcomes.entries()) {
    if (!STATUSES.has(outcome?.status)) {
      throw fieldError(
        `outcomes.${index}.status`,
        `outcome status must be completed, pending, failed or cancelled (got ${JSON.stringify(outcome?.status)})`,
      );
    }
    if (!isUuid(outcome.id)) continue;
    const id = outcome.id.toLowerCase();
    if (seen.has(id)) {
      throw fieldError(`outcomes.${index}.id`, `task ${id} has more than one outcome`);
    }
    seen.add(id);
    storable.push(storableOutcome({ ...outcome, id }, index, maxResultBytes));
  }
  return storable;
}

function storableOutcome(outcome: TaskOutcome, index: number, maxResultBytes: number): TaskOutcome {
  const error = (text: unknown) => storableText(String(text), ERROR_MAX_CHARS);
  switch (outcome.status) {
    case "completed": {
      const problem = jsonProblem(outcome.result ?? null, maxResultBytes);
      if (problem === null) return outcome;
      return { id: outcome.id, status: "failed", error: `the task's result ${problem}` };
    }
    case "pending":
      if (!(outcome.runAt instanceof Date) || Number.isNaN(outcome.runAt.getTime())) {
        throw fieldError(`outcomes.${index}.runAt`, "a retry outcome needs runAt, a valid Date");
      }
      return { ...outcome, error: error(outcome.error) };
    case "failed":
      return { ...outcome, error: error(outcome.error) };
    case "cancelled":
      return outcome.error === undefined ? outcome : { ...outcome, error: error(outcome.error) };
  }
}
