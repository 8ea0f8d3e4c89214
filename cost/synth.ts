/**
 * One environment's CloudFormation template, synthesized in-process exactly as `cdk synth
 * -c env=NAME` builds it (lib/pipelineApp.ts), from the committed cdk.json, plus the
 * settings the template does not spell out. Placeholders are allowed (staging and prod ship
 * example endpoint services: the template is priced, not deployed) and the Lambdas are not
 * bundled (the bill does not depend on their code, and esbuild costs seconds per stack).
 */
import { readFileSync } from "node:fs";
import { App } from "aws-cdk-lib";
import { loadEnvironment } from "../lib/config/loadEnvironment";
import { ALLOW_PLACEHOLDERS_CONTEXT } from "../lib/config/placeholders";
import { projectPath } from "../lib/paths";
import { addTaskPipeline } from "../lib/pipelineApp";
import type { EnvironmentFacts } from "./model";
import type { CfnTemplate } from "./template";

export interface SynthesizedEnvironment {
  readonly name: string;
  readonly template: CfnTemplate;
  readonly facts: EnvironmentFacts;
}

/** cdk.json's `context` (read fresh each call). */
export function cdkJsonContext(): Record<string, unknown> {
  const cdkJson = JSON.parse(readFileSync(projectPath("cdk.json"), "utf8")) as {
    context: Record<string, unknown>;
  };
  return cdkJson.context;
}

/** The environment names in cdk.json, in their order there. */
export function environmentNames(context = cdkJsonContext()): string[] {
  return Object.keys((context.environments ?? {}) as Record<string, unknown>);
}

export function synthesizeEnvironment(
  name: string,
  context = cdkJsonContext(),
): SynthesizedEnvironment {
  const { settings } = loadEnvironment(context.environments, name);
  const app = new App({
    context: {
      ...context,
      env: name,
      [ALLOW_PLACEHOLDERS_CONTEXT]: true,
      // CDK's switch for "bundle assets of no stack" (as test/infra/support/synth.ts uses).
      "aws:cdk:bundling-stacks": [],
    },
  });
  const stack = addTaskPipeline(app);
  const template = app.synth().getStackByName(stack.stackName).template as CfnTemplate;
  return {
    name,
    template,
    facts: { ollamaMode: settings.ollama.mode, llmParallel: settings.executor.maxConcurrency },
  };
}
