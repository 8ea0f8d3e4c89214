import { readFileSync } from "node:fs";
import { App } from "aws-cdk-lib";
import { Template } from "aws-cdk-lib/assertions";
import { projectPath } from "../../../lib/paths";
import { addTaskPipeline } from "../../../lib/pipelineApp";
import type { TaskPipelineStack } from "../../../lib/taskPipelineStack";

/** One environment's settings as raw JSON, edited freely by tests (bad values on purpose). */
// biome-ignore lint/suspicious/noExplicitAny: cdk.json's settings, deliberately untyped here
export type SettingsJson = Record<string, any>;

/** The raw settings of environment `name` inside a cdk.json context. */
export const environmentIn = (context: Record<string, unknown>, name: string): SettingsJson =>
  (context.environments as Record<string, SettingsJson>)[name] as SettingsJson;

export const ENVIRONMENT_NAMES = ["dev", "staging", "prod", "localstack"] as const;
export type EnvironmentName = (typeof ENVIRONMENT_NAMES)[number];

/** cdk.json's context, read fresh (tests that edit settings get their own copy). */
export function cdkJsonContext(): Record<string, unknown> {
  const cdkJson = JSON.parse(readFileSync(projectPath("cdk.json"), "utf8")) as {
    context: Record<string, unknown>;
  };
  return structuredClone(cdkJson.context);
}

export interface Synthesized {
  readonly app: App;
  readonly stack: TaskPipelineStack;
  readonly template: Template;
}

export interface SynthesizeOptions {
  /**
   * Run esbuild for the three Lambdas. Off by default: the assertions here are about the
   * template, which is the same apart from asset hashes, and bundling 3 Lambdas per synth
   * costs seconds on a busy 2-core machine. `cli.test.ts` bundles (through `cdk synth`).
   */
  readonly bundle?: boolean;
  /**
   * Run CDK's built-in CloudFormation template validation too, as `cdk synth` does (cdk.json
   * makes its findings errors). Off by default: loading the resource schemas costs ~20 s on a
   * busy 2-core machine; `environments.test.ts` and `cli.test.ts` keep it on.
   */
  readonly cloudFormationValidation?: boolean;
  /** Edits cdk.json's context before synth (e.g. a bad setting). */
  readonly editContext?: (context: Record<string, unknown>) => void;
}

/** Builds the app exactly as `cdk synth -c env=<name>` does, from cdk.json's context. */
export function synthesize(envName: string, options: SynthesizeOptions = {}): Synthesized {
  const context = cdkJsonContext();
  // staging and prod ship example origins and endpoint services until a team sets its own:
  // the templates are asserted here all the same (placeholders.test.ts checks the refusal).
  context.allowPlaceholders = true;
  options.editContext?.(context);
  context.env = envName;
  // CDK's switch for "bundle assets of no stack" (what `cdk synth --exclusively` uses for
  // the stacks it skips): assets then get a placeholder hash.
  if (!options.bundle) context["aws:cdk:bundling-stacks"] = [];
  const app = new App({
    context,
    builtinCloudFormationValidation: options.cloudFormationValidation ?? false,
  });
  const stack = addTaskPipeline(app);
  // Template.fromStack synthesizes the app, which runs cdk-nag: an unacknowledged
  // AwsSolutions error fails here with the rule and the construct path.
  const template = Template.fromStack(stack);
  return { app, stack, template };
}

const cache = new Map<string, Synthesized>();

/** One synthesized (unbundled) app per environment per test file. */
export function synthesized(envName: EnvironmentName): Synthesized {
  let result = cache.get(envName);
  if (!result) {
    result = synthesize(envName);
    cache.set(envName, result);
  }
  return result;
}
