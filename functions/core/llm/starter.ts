/**
 * Asks for the LLM server to be started (docs/design.md "The LLM server off when idle").
 * In AWS, one message on the stack's LLM start queue, whose consumer starts the stopped EC2
 * instance (./sqsStarter.ts, functions/llmStarter); locally and with a PrivateLink or
 * external Ollama there is nothing to start, hence no starter.
 */
export interface LlmStarter {
  requestStart(): Promise<void>;
}

/** The message body: it says nothing but "start it"; every message means the same. */
export const LLM_START_MESSAGE = { kind: "task-pipeline.llm.start" } as const;
