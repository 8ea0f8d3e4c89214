import { TaskNotFoundError } from "../../core/errors";
import { TaskIdSchema } from "../schemas";

/**
 * The `{id}` of a task route. An id that is not a UUID names no task: 404, exactly like an
 * unknown id or another caller's, so a caller learns nothing from how an id is refused.
 */
export function taskIdParam(params: Record<string, string>): string {
  const id = params.id ?? "";
  if (!TaskIdSchema.safeParse(id).success) throw new TaskNotFoundError(printable(id));
  return id;
}

/** The id as the 404 message may echo it: short, printable. */
function printable(id: string): string {
  const clean = id.replace(/[^\x20-\x7e]/g, "?");
  return clean.length > 64 ? `${clean.slice(0, 64)}…` : clean;
}
