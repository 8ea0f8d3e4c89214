import { Token } from "aws-cdk-lib";
import { describe, expect, it } from "vitest";
import {
  cdkJsonContext,
  ENVIRONMENT_NAMES,
  environmentIn,
  type Synthesized,
  synthesize,
} from "./support/synth";
import { lambdaEnvironment, pipelineFunctions, resourcesOfType } from "./support/template";

/**
 * Each environment synthesized as `cdk synth` would (minus bundling, see cli.test.ts):
 * cdk-nag and CDK's CloudFormation schema validation both on, either failing the synth.
 */
const validated = new Map<string, Synthesized>();
const synthesizeValidated = (name: string): Synthesized => {
  let result = validated.get(name);
  if (!result) {
    result = synthesize(name, { cloudFormationValidation: true });
    validated.set(name, result);
  }
  return result;
};

describe.each(ENVIRONMENT_NAMES)("environment %s", (name) => {
  it("synthesizes offline as TaskPipeline-<env>: validated, environment-agnostic, no context lookups", () => {
    // Prepare / Act
    const { app, stack, template } = synthesizeValidated(name);
    const assembly = app.synth();

    // Assess
    expect(stack.stackName).toBe(`TaskPipeline-${name}`);
    expect(app.node.tryGetContext("@aws-cdk/core:validateAgainstDefaultRules")).toBe(true);
    expect(Token.isUnresolved(stack.account)).toBe(true);
    expect(Token.isUnresolved(stack.region)).toBe(true);
    // A lookup (fromLookup, an AMI cached in context...) would show up as missing context.
    expect(assembly.manifest.missing ?? []).toEqual([]);
    // No hard-coded ARN: partition, region and account come from the deployment. (The one
    // exception is AWS's public rotation application in the Serverless Application
    // Repository, which CDK maps per partition.)
    const arns =
      JSON.stringify(template.toJSON()).match(
        /arn:aws[a-z-]*:[a-z0-9-]+:[a-z0-9-]*:\d{12}:[^"]*/g,
      ) ?? [];
    expect(arns.filter((arn) => !/^arn:aws[a-z-]*:serverlessrepo:/.test(arn))).toEqual([]);
  }, 180_000); // The first synth of the file loads CloudFormation's resource schemas.

  it("has the pipeline Lambdas (the LLM starter where the instance stops when idle), each told its environment and service", () => {
    // Prepare
    const { template } = synthesizeValidated(name);

    // Act
    const functions = pipelineFunctions(template);

    // Assess
    const starter = name === "dev" || name === "staging" ? ["llmStarter"] : [];
    expect(Object.keys(functions).sort()).toEqual(
      ["api", "executor", ...starter, "migrate", "realtimeRelay"].sort(),
    );
    for (const [service, [, fn]] of Object.entries(functions)) {
      expect(lambdaEnvironment(fn)).toMatchObject({
        PIPELINE_ENV: name,
        POWERTOOLS_SERVICE_NAME: service,
        POWERTOOLS_METRICS_NAMESPACE: "TaskPipeline",
        NODE_OPTIONS: "--enable-source-maps",
      });
    }
    // Theirs plus CDK's custom-resource framework Lambda; where the stack's data goes with
    // it (removalPolicy destroy) CDK's Lambda that empties the buckets; where Ollama runs on
    // an instance, AwsCustomResource's Lambda that starts the staging build.
    const settings = environmentIn(cdkJsonContext(), name);
    const emptiesBuckets = settings.removalPolicy === "destroy" ? 1 : 0;
    const startsBuild = settings.ollama.mode === "instance" ? 1 : 0;
    expect(Object.keys(resourcesOfType(template, "AWS::Lambda::Function"))).toHaveLength(
      5 + emptiesBuckets + startsBuild + starter.length,
    );
  });
});
