import { fieldError } from "../fieldIssues";

/**
 * The model allowlist: a task may name a model, and it must be one this environment
 * allows (OLLAMA_MODELS), else the create is a 400. No model named: OLLAMA_MODEL.
 */

export interface ModelSettings {
  OLLAMA_MODEL: string;
  OLLAMA_MODELS: readonly string[];
}

/**
 * Returns the model a task runs with, spelled as the allowlist spells it. Ollama treats
 * `llama3.2` and `llama3.2:latest` as the same model, and so does this check.
 * Throws ValidationError naming `model` when the model is not allowed.
 */
export function resolveModel(requested: string | undefined, settings: ModelSettings): string {
  if (requested === undefined) return settings.OLLAMA_MODEL;
  const allowed = allowedModel(requested, settings.OLLAMA_MODELS);
  if (allowed !== undefined) return allowed;
  throw fieldError(
    "model",
    `model "${requested}" is not allowed; allowed models: ${settings.OLLAMA_MODELS.join(", ")}`,
  );
}

/**
 * The allowlist's spelling of `name`, or undefined when it is not allowed: the one
 * matching rule for the API (at create) and the executor (again before each attempt).
 */
export function allowedModel(name: string, allowed: readonly string[]): string | undefined {
  const wanted = canonicalModelName(name);
  return allowed.find((candidate) => canonicalModelName(candidate) === wanted);
}

/** `Llama3.2` → `llama3.2:latest`: Ollama's names are case-insensitive and default the tag. */
export function canonicalModelName(name: string): string {
  const trimmed = name.trim().toLowerCase();
  const lastSegment = trimmed.slice(trimmed.lastIndexOf("/") + 1);
  return lastSegment.includes(":") ? trimmed : `${trimmed}:latest`;
}

/**
 * A model's context window in tokens: its OLLAMA_CONTEXT_LENGTHS entry (matched as the
 * allowlist matches names), else OLLAMA_CONTEXT_LENGTH.
 */
export function contextLengthOf(
  model: string,
  settings: { OLLAMA_CONTEXT_LENGTH: number; OLLAMA_CONTEXT_LENGTHS: Record<string, number> },
): number {
  const wanted = canonicalModelName(model);
  for (const [name, tokens] of Object.entries(settings.OLLAMA_CONTEXT_LENGTHS)) {
    if (canonicalModelName(name) === wanted) return tokens;
  }
  return settings.OLLAMA_CONTEXT_LENGTH;
}
