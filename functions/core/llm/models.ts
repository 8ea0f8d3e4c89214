import { ValidationError } from "../errors";

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
  const wanted = canonicalModelName(requested);
  const allowed = settings.OLLAMA_MODELS.find((name) => canonicalModelName(name) === wanted);
  if (allowed !== undefined) return allowed;
  const message = `model "${requested}" is not allowed; allowed models: ${settings.OLLAMA_MODELS.join(", ")}`;
  throw new ValidationError(message, [{ path: "model", message }]);
}

/** `Llama3.2` → `llama3.2:latest`: Ollama's names are case-insensitive and default the tag. */
export function canonicalModelName(name: string): string {
  const trimmed = name.trim().toLowerCase();
  const lastSegment = trimmed.slice(trimmed.lastIndexOf("/") + 1);
  return lastSegment.includes(":") ? trimmed : `${trimmed}:latest`;
}
