/** Task types: their input schemas (checked at create time) and the registry that runs them. */
export { describeFieldIssues, type FieldIssue, toFieldIssues } from "./fieldIssues";
export {
  DEFAULT_WORD_COUNT,
  type GenerateContentInput,
  GenerateContentInputSchema,
  type GenerateContentOutput,
  GenerateContentOutputSchema,
  generateContentType,
  MAX_WORD_COUNT,
  MIN_WORD_COUNT,
} from "./generateContent";
export {
  type PromptInput,
  PromptInputSchema,
  type PromptOutput,
  PromptOutputSchema,
  promptType,
} from "./prompt";
export {
  type AnyTaskType,
  builtInTaskTypes,
  createTaskTypeRegistry,
  type TaskTypeRegistry,
} from "./registry";
export {
  MAX_SUMMARIZE_TEXT,
  type SummarizeInput,
  SummarizeInputSchema,
  type SummarizeOutput,
  SummarizeOutputSchema,
  summarizeType,
} from "./summarize";
export type { ResultEnvelope, TaskRunContext, TaskType, Usage } from "./types";
export { countWords } from "./wordCount";
