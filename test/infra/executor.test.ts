import { Capture, Match } from "aws-cdk-lib/assertions";
import { describe, expect, it } from "vitest";
import { scheduleEvent } from "../../functions/core/executor/scheduleEvent";
import { executorTimeoutSeconds } from "../../lib/config/environmentSettings";
import { loadEnvironment } from "../../lib/config/loadEnvironment";
import { cdkJsonContext, synthesize, synthesized } from "./support/synth";
import * as cfn from "./support/template";

const settingsOf = (name: string) => loadEnvironment(cdkJsonContext().environments, name).settings;

describe("the executor's schedule", () => {
  it("runs the executor at rate(1 minute) with the shared tick event and a dead-letter queue", () => {
    // Prepare
    const { template } = synthesized("dev");
    const [executorId] = cfn.pipelineFunction(template, "executor");
    const deadLetterQueue = new Capture();

    // Act
    const [, rule] = cfn.onlyResource(template, "AWS::Events::Rule");

    // Assess
    template.hasResourceProperties("AWS::Events::Rule", {
      ScheduleExpression: "rate(1 minute)",
      State: "ENABLED",
      Targets: [
        Match.objectLike({
          Arn: { "Fn::GetAtt": [executorId, "Arn"] },
          Input: JSON.stringify(scheduleEvent("dev")),
          DeadLetterConfig: { Arn: { "Fn::GetAtt": [deadLetterQueue, "Arn"] } },
        }),
      ],
    });
    expect(rule.Properties?.Targets).toHaveLength(1);
    expect(Object.keys(cfn.resourcesOfType(template, "AWS::SQS::Queue"))).toContain(
      deadLetterQueue.asString(),
    );
  });

  it("does not retry a failed invocation and sends it to the same dead-letter queue", () => {
    // Prepare
    const { template } = synthesized("dev");
    const [executorId] = cfn.pipelineFunction(template, "executor");
    const [, rule] = cfn.onlyResource(template, "AWS::Events::Rule");
    const targets = rule.Properties?.Targets as { DeadLetterConfig: { Arn: unknown } }[];
    const ruleDeadLetterQueue = cfn.referencedId(targets[0]?.DeadLetterConfig.Arn);

    // Act
    const [, invokeConfig] = cfn.onlyResource(template, "AWS::Lambda::EventInvokeConfig");

    // Assess
    expect(invokeConfig.Properties).toMatchObject({
      FunctionName: { Ref: executorId },
      MaximumRetryAttempts: 0,
      DestinationConfig: {
        OnFailure: { Destination: { "Fn::GetAtt": [ruleDeadLetterQueue, "Arn"] } },
      },
    });
    // The EventBridge service may write to the DLQ (queue policy), the executor role too (destination).
    template.hasResourceProperties("AWS::SQS::QueuePolicy", {
      Queues: [{ Ref: ruleDeadLetterQueue }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: "sqs:SendMessage",
            Principal: { Service: "events.amazonaws.com" },
          }),
        ]),
      },
    });
  });
});

describe("the executor Lambda", () => {
  it("runs in the isolated subnets: private, with no route out of the VPC", () => {
    // Prepare
    const { template } = synthesized("dev");
    const [, executor] = cfn.pipelineFunction(template, "executor");

    // Act
    const vpcConfig = executor.Properties?.VpcConfig as {
      SubnetIds: unknown[];
      SecurityGroupIds: unknown[];
    };
    const subnetIds = vpcConfig.SubnetIds.map(cfn.referencedId) as string[];

    // Assess
    expect(subnetIds.length).toBeGreaterThanOrEqual(2);
    for (const subnet of subnetIds) {
      expect(cfn.subnetTag(template, subnet, "aws-cdk:subnet-type")).toBe("Isolated");
      expect(cfn.subnetTag(template, subnet, "aws-cdk:subnet-name")).toBe("isolated");
      expect(cfn.subnetsWithRouteOut(template).has(subnet)).toBe(false);
    }
    // No subnet of the VPC has a route out: the Ollama instance is staged through S3.
    expect(cfn.subnetsWithRouteOut(template).size).toBe(0);
  });

  it("reaches the RDS Data API and SQS through interface endpoints that admit only it, and needs no Secrets Manager endpoint", () => {
    // Prepare
    const { template } = synthesized("prod");
    const [, executor] = cfn.pipelineFunction(template, "executor");
    const executorGroup = cfn.referencedId(
      cfn.property<{ SecurityGroupIds: unknown[] }>(executor, "VpcConfig").SecurityGroupIds[0],
    );
    const endpoints = Object.values(cfn.resourcesOfType(template, "AWS::EC2::VPCEndpoint"));
    const sourcesOf = (service: string) => {
      const endpoint = endpoints.find((e) =>
        JSON.stringify(e.Properties?.ServiceName).includes(`.${service}"`),
      );
      const groups = cfn.property<unknown[]>(endpoint, "SecurityGroupIds").map(cfn.referencedId);
      return {
        endpoint,
        sources: cfn
          .ingressRules(template)
          .filter((r) => groups.includes(r.groupId))
          .map((r) => cfn.referencedId(r.rule.SourceSecurityGroupId)),
      };
    };

    for (const service of ["rds-data", "sqs"]) {
      // Act
      const { endpoint, sources } = sourcesOf(service);

      // Assess
      expect(endpoint?.Properties).toMatchObject({
        VpcEndpointType: "Interface",
        PrivateDnsEnabled: true,
      });
      expect(sources).toEqual([executorGroup]);
    }
    // prod rotates its secret: the endpoint is there for the rotation Lambda alone (the
    // Data API reads the secret itself; the executor only names it).
    const secrets = sourcesOf("secretsmanager").sources;
    expect(secrets).not.toContain(executorGroup);
    expect(secrets.every((source) => source?.startsWith("DatabaseRotationSecurityGroup"))).toBe(
      true,
    );
    // dev does not rotate: no Secrets Manager endpoint at all.
    const dev = Object.values(
      cfn.resourcesOfType(synthesized("dev").template, "AWS::EC2::VPCEndpoint"),
    ).filter((e) => JSON.stringify(e.Properties?.ServiceName).includes(".secretsmanager"));
    expect(dev).toEqual([]);
  });

  it("has no NAT gateway, no internet gateway and no public IP in any environment", () => {
    for (const name of ["dev", "staging", "prod", "localstack"] as const) {
      // Act
      const { template } = synthesized(name);
      const count = (type: string) => Object.keys(cfn.resourcesOfType(template, type)).length;

      // Assess
      expect(count("AWS::EC2::NatGateway"), name).toBe(0);
      expect(count("AWS::EC2::InternetGateway"), name).toBe(0);
      expect(count("AWS::EC2::EIP"), name).toBe(0);
    }
  });

  it("puts every interface endpoint in the environment's endpointAzs AZs (dev and staging 1, prod 2)", () => {
    for (const [name, azs] of [
      ["dev", 1],
      ["staging", 1],
      ["prod", 2],
    ] as const) {
      // Act
      const interfaces = Object.values(
        cfn.resourcesOfType(synthesized(name).template, "AWS::EC2::VPCEndpoint"),
      ).filter((e) => e.Properties?.VpcEndpointType === "Interface");

      // Assess
      expect(interfaces.length, name).toBeGreaterThan(0);
      for (const endpoint of interfaces) {
        expect(cfn.property<unknown[]>(endpoint, "SubnetIds"), name).toHaveLength(azs);
      }
    }
    // Aurora keeps two AZs: a DB subnet group must cover at least two.
    const [, group] = cfn.onlyResource(synthesized("dev").template, "AWS::RDS::DBSubnetGroup");
    expect(cfn.property<unknown[]>(group, "SubnetIds")).toHaveLength(2);
  });

  it("calls only AWS services it has an endpoint for: the Data API and SQS (interface), DynamoDB and S3 (gateway)", () => {
    // Act
    const { template } = synthesized("dev");
    const services = Object.values(cfn.resourcesOfType(template, "AWS::EC2::VPCEndpoint")).map(
      (e) => /\.([a-z0-9-]+)$/.exec(cfn.joinedText(e.Properties?.ServiceName))?.[1],
    );

    // Assess: dev runs the instance without Session Manager and does not rotate its secret
    expect(services.sort()).toEqual(["dynamodb", "rds-data", "s3", "sqs"]);
  });

  it("times out after the claim window plus one LLM call plus a margin, and says so in EXECUTOR_TIMEOUT_MS", () => {
    for (const name of ["dev", "prod"] as const) {
      // Prepare
      const settings = settingsOf(name);
      const { template } = synthesized(name);

      // Act
      const [, executor] = cfn.pipelineFunction(template, "executor");
      const environment = cfn.lambdaEnvironment(executor);

      // Assess
      const expected = executorTimeoutSeconds(settings);
      expect(expected).toBe(
        settings.executor.claimWindowSeconds + settings.ollama.llmTimeoutMs / 1000 + 10,
      );
      expect(executor.Properties?.Timeout).toBe(expected);
      expect(environment.EXECUTOR_TIMEOUT_MS).toBe(String(expected * 1000));
      // No environment reserves concurrency: a deploy must not depend on quota headroom.
      expect(settings.executor.reservedConcurrency).toBeUndefined();
      expect(executor.Properties?.ReservedConcurrentExecutions).toBeUndefined();
    }
  });

  it("reserves concurrency only when an environment opts in", () => {
    // Prepare
    const optIn = (context: Record<string, unknown>) => {
      const environments = context.environments as Record<string, { executor: object }>;
      Object.assign(environments.dev?.executor ?? {}, { reservedConcurrency: 5 });
    };

    // Act
    const { template } = synthesize("dev", { editContext: optIn });
    const [, executor] = cfn.pipelineFunction(template, "executor");

    // Assess
    expect(executor.Properties?.ReservedConcurrentExecutions).toBe(5);
  });

  it("passes tuning set in cdk.json on to the executor, and the handler's schema checks it at synth", () => {
    // Prepare
    const tune = (executor: Record<string, number>) => (context: Record<string, unknown>) => {
      const environments = context.environments as Record<string, { executor: object }>;
      Object.assign(environments.dev?.executor ?? {}, executor);
    };

    // Act
    const { template } = synthesize("dev", {
      editContext: tune({
        leaseSeconds: 90,
        pollIntervalMs: 1000,
        retryBaseMs: 500,
        retryMaxMs: 60_000,
      }),
    });
    const badPair = () => synthesize("dev", { editContext: tune({ retryMaxMs: 100 }) });

    // Assess
    const environment = cfn.lambdaEnvironment(cfn.pipelineFunction(template, "executor")[1]);
    expect(environment).toMatchObject({
      LEASE_SECONDS: "90",
      POLL_INTERVAL_MS: "1000",
      RETRY_BASE_MS: "500",
      RETRY_MAX_MS: "60000",
    });
    // retryMaxMs alone below the handler's default RETRY_BASE_MS (2000): refused at synth.
    expect(badPair).toThrow(/RETRY_MAX_MS must be at least RETRY_BASE_MS/);
  });

  it("passes each environment's running cap and retention on, and refuses a cap below 1 at synth", () => {
    // Prepare
    const prod = settingsOf("prod").executor;
    const dev = settingsOf("dev").executor;
    const capped = (maxRunningPerOwner: number) => (context: Record<string, unknown>) => {
      const environments = context.environments as Record<string, { executor: object }>;
      Object.assign(environments.dev?.executor ?? {}, { maxRunningPerOwner });
    };

    // Act
    const prodEnvironment = cfn.lambdaEnvironment(
      cfn.pipelineFunction(synthesized("prod").template, "executor")[1],
    );
    const devEnvironment = cfn.lambdaEnvironment(
      cfn.pipelineFunction(synthesized("dev").template, "executor")[1],
    );
    const zeroCap = () => synthesize("dev", { editContext: capped(0) });

    // Assess
    expect(prod.maxRunningPerOwner).toBe(4);
    expect(prodEnvironment).toMatchObject({
      MAX_RUNNING_PER_OWNER: "4",
      RETENTION_SECONDS: String(prod.retentionSeconds),
    });
    expect(devEnvironment.RETENTION_SECONDS).toBe(String(dev.retentionSeconds));
    // dev sets no cap: none is passed, and the handler's default (no limit) applies.
    expect(devEnvironment.MAX_RUNNING_PER_OWNER).toBeUndefined();
    expect(zeroCap).toThrow(/maxRunningPerOwner must be at least 1/);
  });

  it("gets its tuning from the settings, and the failed-tasks queue and Ollama host from the stack", () => {
    // Prepare
    const settings = settingsOf("dev");
    const { template } = synthesized("dev");
    const [failedTasksId] = Object.entries(cfn.resourcesOfType(template, "AWS::SQS::Queue")).find(
      ([id]) => id.startsWith("FailedTasks"),
    ) as [string, unknown];
    const [instanceId] = cfn.onlyResource(template, "AWS::EC2::Instance");

    // Act
    const [, executor] = cfn.pipelineFunction(template, "executor");
    const environment = cfn.lambdaEnvironment(executor);

    // Assess
    expect(environment).toMatchObject({
      OLLAMA_MODEL: settings.ollama.defaultModel,
      OLLAMA_MODELS: settings.ollama.models.join(","),
      LLM_TIMEOUT_MS: String(settings.ollama.llmTimeoutMs),
      MAX_CONCURRENCY: String(settings.executor.maxConcurrency),
      PIPELINE_ENV: "dev",
      POWERTOOLS_SERVICE_NAME: "executor",
      NODE_OPTIONS: "--enable-source-maps",
    });
    // Tuning cdk.json leaves unset is not passed: the handler's own defaults apply.
    for (const name of ["LEASE_SECONDS", "POLL_INTERVAL_MS", "RETRY_BASE_MS", "RETRY_MAX_MS"]) {
      expect(environment[name], name).toBeUndefined();
    }
    expect(environment.FAILED_TASKS_QUEUE_URL).toEqual({ Ref: failedTasksId });
    expect(cfn.referencedIds(environment.OLLAMA_HOST)).toEqual(new Set([instanceId]));
  });

  it("tells the executor each model's context window, for num_ctx and the summarize split", () => {
    // Act
    const [, dev] = cfn.pipelineFunction(synthesized("dev").template, "executor");
    const [, staging] = cfn.pipelineFunction(synthesized("staging").template, "executor");

    // Assess
    expect(cfn.lambdaEnvironment(dev)).toMatchObject({ OLLAMA_CONTEXT_LENGTH: "8192" });
    expect(cfn.lambdaEnvironment(dev).OLLAMA_CONTEXT_LENGTHS).toBeUndefined();
    expect(cfn.lambdaEnvironment(staging)).toMatchObject({
      OLLAMA_CONTEXT_LENGTH: "16384",
      OLLAMA_CONTEXT_LENGTHS: "qwen2.5:7b=32768",
    });
  });

  it("is bundled as arm64 Node.js 22 with the log retention of its environment", () => {
    // Prepare
    const settings = settingsOf("prod");
    const { template } = synthesized("prod");

    for (const service of ["api", "executor", "migrate"]) {
      // Act
      const [, fn] = cfn.pipelineFunction(template, service);
      const logGroupId = cfn.referencedId(
        cfn.property<{ LogGroup: unknown }>(fn, "LoggingConfig").LogGroup,
      );
      const logGroup = cfn.resourcesOfType(template, "AWS::Logs::LogGroup")[logGroupId as string];

      // Assess
      expect(fn.Properties).toMatchObject({
        Runtime: "nodejs22.x",
        Architectures: ["arm64"],
        Handler: "index.handler",
      });
      expect(logGroup?.Properties?.RetentionInDays).toBe(settings.logRetentionDays);
    }
  });
});
