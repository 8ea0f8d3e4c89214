import { z } from "zod";

/**
 * The event the EventBridge rule sends the executor every minute. One schema, shared by the
 * CDK construct that builds the rule's input and the handler that parses it, so the two
 * cannot drift. The local runtime's timer sends the same shape.
 */
export const ExecutorScheduleEventSchema = z.object({
  kind: z.literal("task-pipeline.executor.tick"),
  /** The deployment environment, for logs. */
  environment: z.string().min(1),
});
export type ExecutorScheduleEvent = z.infer<typeof ExecutorScheduleEventSchema>;

export const scheduleEvent = (environment: string): ExecutorScheduleEvent => ({
  kind: "task-pipeline.executor.tick",
  environment,
});
