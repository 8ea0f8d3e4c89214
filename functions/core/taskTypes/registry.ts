import { TaskExecutionError, ValidationError } from "../errors";
import { describeFieldIssues, fieldError, toFieldIssues } from "../fieldIssues";
import { generateContentType } from "./generateContent";
import { promptType } from "./prompt";
import { summarizeType } from "./summarize";
import type { ResultEnvelope, TaskRunContext, TaskType } from "./types";

/**
 * Which task types exist. The API checks a new task's `type` and `input` here (bad input
 * is a 400 at create time); the executor looks the type up again to run it.
 */

// biome-ignore lint/suspicious/noExplicitAny: a registry holds types of every input shape; each checks its own input
export type AnyTaskType = TaskType<any, any>;

/** Adding a type: one file, one line here. */
export const builtInTaskTypes: readonly AnyTaskType[] = [
  generateContentType,
  summarizeType,
  promptType,
];

export interface TaskTypeRegistry {
  /** Adds a type; throws when its name is taken (two types under one name is a bug). */
  register(type: AnyTaskType): void;
  get(name: string): AnyTaskType | undefined;
  /** Registered names, sorted. */
  names(): string[];
  /**
   * The input as the type's schema parses it (trimmed text...). Throws ValidationError:
   * unknown type → details `[{path: "type"}]` naming the known types; input that does not
   * fit → details listing each failing field as `input.<path>`.
   */
  parseInput(name: string, input: unknown): unknown;
  /**
   * For the executor: parses the input again and runs the type. A type that no longer
   * exists or input that no longer fits (the schema changed since the task was created)
   * can never succeed, so both are final TaskExecutionErrors rather than ValidationErrors.
   */
  run(
    name: string,
    input: unknown,
    context: TaskRunContext,
  ): Promise<Record<string, unknown> & ResultEnvelope>;
}

/** A registry holding `types` (the built-in ones when not given). */
export function createTaskTypeRegistry(
  types: readonly AnyTaskType[] = builtInTaskTypes,
): TaskTypeRegistry {
  const byName = new Map<string, AnyTaskType>();

  const registry: TaskTypeRegistry = {
    register(type) {
      if (!/^[a-z][a-z0-9_]{0,63}$/.test(type.name)) {
        throw new Error(`task type name "${type.name}" must be snake_case, at most 64 characters`);
      }
      if (byName.has(type.name)) throw new Error(`task type "${type.name}" is already registered`);
      byName.set(type.name, type);
    },

    get: (name) => byName.get(name),

    names: () => [...byName.keys()].sort(),

    parseInput(name, input) {
      const type = byName.get(name);
      if (!type) {
        throw fieldError(
          "type",
          `unknown task type "${name}"; known types: ${registry.names().join(", ")}`,
        );
      }
      const parsed = type.input.safeParse(input);
      if (parsed.success) return parsed.data;
      const issues = toFieldIssues(parsed.error, "input");
      throw new ValidationError(
        `invalid input for task type "${name}": ${describeFieldIssues(issues)}`,
        issues,
      );
    },

    async run(name, input, context) {
      let parsed: unknown;
      try {
        parsed = registry.parseInput(name, input);
      } catch (error) {
        if (error instanceof ValidationError) {
          throw new TaskExecutionError(error.message, false, error);
        }
        throw error;
      }
      // biome-ignore lint/style/noNonNullAssertion: parseInput succeeded, so the type exists
      return byName.get(name)!.run(parsed, context);
    },
  };

  for (const type of types) registry.register(type);
  return registry;
}
