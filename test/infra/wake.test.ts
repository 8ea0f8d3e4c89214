import { describe, expect, it } from "vitest";
import { WAKE_MAX_CONCURRENCY } from "../../lib/wake";
import { synthesized } from "./support/synth";
import {
  actionsOf,
  lambdaEnvironment,
  onlyResource,
  pipelineFunction,
  policyStatements,
  referencedId,
  referencedIds,
  resourcesOfType,
} from "./support/template";

/**
 * Scale to zero's infrastructure (lib/wake.ts): the wake queue and its event source mapping
 * onto the executor (at most 2 at once), the due marker table reached from the VPC through
 * a gateway endpoint, and each grant scoped to its resource and its user.
 */

describe("the wake path", () => {
  it("maps the wake queue onto the executor, 10 messages a batch, at most 2 executors at once", () => {
    // Prepare
    const { template } = synthesized("dev");
    const [executorId] = pipelineFunction(template, "executor");
    const [, api] = pipelineFunction(template, "api");
    const queueId = referencedId(lambdaEnvironment(api).WAKE_QUEUE_URL) as string;

    // Act
    const mapping = Object.values(
      resourcesOfType(template, "AWS::Lambda::EventSourceMapping"),
    ).find((m) => referencedIds(m.Properties?.EventSourceArn).has(queueId));

    // Assess
    expect(WAKE_MAX_CONCURRENCY).toBe(2);
    expect(mapping?.Properties).toMatchObject({
      BatchSize: 10,
      MaximumBatchingWindowInSeconds: 0,
      ScalingConfig: { MaximumConcurrency: 2 },
    });
    expect(referencedId(mapping?.Properties?.FunctionName)).toBe(executorId);
    const queue = template.toJSON().Resources[queueId];
    expect(queue.Properties).toMatchObject({
      SqsManagedSseEnabled: true,
      MessageRetentionPeriod: 60,
    });
    // Lambda requires a visibility timeout of at least the function's timeout.
    const [, executor] = pipelineFunction(template, "executor");
    expect(queue.Properties.VisibilityTimeout).toBeGreaterThanOrEqual(
      executor.Properties?.Timeout as number,
    );
  });

  it("lets only the api Lambda send wakes, to that queue only", () => {
    // Prepare
    const { template } = synthesized("dev");
    const [, api] = pipelineFunction(template, "api");
    const queueId = referencedId(lambdaEnvironment(api).WAKE_QUEUE_URL) as string;

    // Act
    const senders = policyStatements(template).filter(
      (s) => actionsOf(s).includes("sqs:SendMessage") && referencedIds(s.Resource).has(queueId),
    );

    // Assess
    expect(senders.flatMap((s) => s.roles)).toEqual([referencedId(api.Properties?.Role)]);
  });

  it("keeps the due marker in an on-demand table: the api may only update it, the executor read and write it", () => {
    // Prepare
    const { template } = synthesized("dev");
    const [tableId, table] = onlyResource(template, "AWS::DynamoDB::Table");
    const [, api] = pipelineFunction(template, "api");
    const [, executor] = pipelineFunction(template, "executor");
    const actionsFor = (fn: typeof api) =>
      policyStatements(template)
        .filter(
          (s) =>
            s.roles.includes(referencedId(fn.Properties?.Role) as string) &&
            actionsOf(s).some((a) => a.startsWith("dynamodb:")),
        )
        .flatMap((s) => {
          expect([...referencedIds(s.Resource)]).toEqual([tableId]);
          return actionsOf(s).sort();
        });

    // Act
    const apiActions = actionsFor(api);
    const executorActions = actionsFor(executor);

    // Assess
    expect(table.Properties).toMatchObject({ BillingMode: "PAY_PER_REQUEST" });
    expect(apiActions).toEqual(["dynamodb:UpdateItem"]);
    expect(executorActions).toEqual([
      "dynamodb:GetItem",
      "dynamodb:PutItem",
      "dynamodb:UpdateItem",
    ]);
    expect(referencedId(lambdaEnvironment(api).DUE_MARKER_TABLE)).toBe(tableId);
    expect(referencedId(lambdaEnvironment(executor).DUE_MARKER_TABLE)).toBe(tableId);
  });

  it("reaches DynamoDB and S3 from the VPC through gateway endpoints, in every environment", () => {
    for (const name of ["dev", "staging", "prod"] as const) {
      // Prepare
      const { template } = synthesized(name);

      // Act
      const endpoints = Object.values(resourcesOfType(template, "AWS::EC2::VPCEndpoint")).filter(
        (e) => e.Properties?.VpcEndpointType === "Gateway",
      );

      // Assess
      expect(
        endpoints.map((e) => JSON.stringify(e.Properties?.ServiceName)),
        name,
      ).toEqual([expect.stringContaining("dynamodb"), expect.stringContaining("s3")]);
    }
  });

  it("sends the tick with the schedule's period, so a tick skips only when nothing is due before the next", () => {
    // Prepare
    const { template } = synthesized("dev");

    // Act
    const [, rule] = onlyResource(template, "AWS::Events::Rule");
    const targets = rule.Properties?.Targets as { Input: string }[];

    // Assess
    expect(rule.Properties?.ScheduleExpression).toBe("rate(1 minute)");
    expect(JSON.parse(targets[0]?.Input ?? "{}")).toMatchObject({
      kind: "task-pipeline.executor.tick",
      everySeconds: 60,
    });
  });
});
