import { z } from "zod";

/**
 * What starts the executor. One schema per source, shared by the CDK construct that sends
 * it and the handler that parses it, so the two cannot drift; the local runtime sends the
 * same shapes.
 *
 * - The **tick**: the EventBridge rule's event, every minute (`everySeconds`). A tick with
 *   nothing due before the next one returns without touching the database.
 * - The **wake**: an SQS event from the wake queue's event source mapping, a record per
 *   wake message (`WAKE_MESSAGE`), sent when a task is created. It runs the loop at once.
 */
export const ExecutorScheduleEventSchema = z.object({
  kind: z.literal("task-pipeline.executor.tick"),
  /** The deployment environment, for logs. */
  environment: z.string().min(1),
  /** The schedule's period: the tick skips when nothing is due before the next one. */
  everySeconds: z.int().min(1).max(3_600).default(60),
});
export type ExecutorScheduleEvent = z.infer<typeof ExecutorScheduleEventSchema>;

export const scheduleEvent = (environment: string, everySeconds = 60): ExecutorScheduleEvent => ({
  kind: "task-pipeline.executor.tick",
  environment,
  everySeconds,
});

/** The wake queue's message body. */
export const WAKE_MESSAGE = { kind: "task-pipeline.executor.wake" } as const;

const WakeMessageSchema = z.object({ kind: z.literal(WAKE_MESSAGE.kind) });

/** An SQS event from an event source mapping, carrying wake messages. */
export const ExecutorWakeEventSchema = z.object({
  Records: z
    .array(
      z.object({
        eventSource: z.literal("aws:sqs"),
        body: z
          .string()
          .transform((body, ctx) => {
            try {
              return JSON.parse(body) as unknown;
            } catch {
              ctx.addIssue({ code: "custom", message: "body must be JSON" });
              return z.NEVER;
            }
          })
          .pipe(WakeMessageSchema),
      }),
    )
    .min(1),
});

export const ExecutorEventSchema = z.union([ExecutorScheduleEventSchema, ExecutorWakeEventSchema]);
export type ExecutorEvent = z.infer<typeof ExecutorEventSchema>;
/** What is sent: a tick, or the SQS event with its bodies still JSON text. */
export type ExecutorEventInput = z.input<typeof ExecutorEventSchema>;

export function isWake(event: ExecutorEvent): event is z.infer<typeof ExecutorWakeEventSchema> {
  return "Records" in event;
}
