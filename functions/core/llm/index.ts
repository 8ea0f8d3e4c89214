/** The LLM port and its Ollama adapter; see types.ts for the contract. */

export { classifyLlmError } from "./classifyError";
export { createLlmClient, type LlmClientOptions } from "./client";
export { canonicalModelName, type ModelSettings, resolveModel } from "./models";
export type {
  LlmCallOptions,
  LlmChatRequest,
  LlmChatResult,
  LlmClient,
  LlmFormat,
  LlmMessage,
  LlmModelInfo,
  LlmOptions,
  LlmUsage,
} from "./types";
