import { type App, Validations } from "aws-cdk-lib";
import { AwsSolutionsChecks } from "cdk-nag";
import { SettingsError } from "../functions/core/errors";
import { loadEnvironment } from "./config/loadEnvironment";
import { ALLOW_PLACEHOLDERS_CONTEXT, findPlaceholders } from "./config/placeholders";
import { TaskPipelineStack } from "./taskPipelineStack";

/**
 * Builds the selected environment's stack into `app` and registers cdk-nag's AwsSolutions
 * pack, whose unacknowledged errors fail synthesis. Reads from the app's context:
 * `env` (from `-c env=NAME`), `environments` (cdk.json) and optionally `migrationsRunId`.
 * Throws SettingsError naming the bad setting, or naming each placeholder left in the
 * selected environment (unless `-c allowPlaceholders=true`, for a template to review).
 */
export function addTaskPipeline(app: App): TaskPipelineStack {
  const { name, settings } = loadEnvironment(
    app.node.tryGetContext("environments"),
    app.node.tryGetContext("env"),
  );
  const allowPlaceholders = String(app.node.tryGetContext(ALLOW_PLACEHOLDERS_CONTEXT)) === "true";
  const placeholders = allowPlaceholders ? [] : findPlaceholders(settings);
  if (placeholders.length > 0) {
    const named = placeholders.map(
      (p) => `environments.${name}.${p.path} (${JSON.stringify(p.value)})`,
    );
    throw new SettingsError(
      `cdk.json holds placeholder(s) that cannot deploy: ${named.join(", ")}. Set the real value(s), or pass -c ${ALLOW_PLACEHOLDERS_CONTEXT}=true to synthesize a template for review only`,
      named,
    );
  }
  const runId: unknown = app.node.tryGetContext("migrationsRunId");
  const stack = new TaskPipelineStack(app, `TaskPipeline-${name}`, {
    environmentName: name,
    settings,
    migrationsRunId: runId === undefined ? undefined : String(runId),
    description: `task-pipeline (${name}): HTTP API, Aurora (Data API), scheduled executor, Ollama`,
    // Without an account and region the stack is environment-agnostic: synth needs no credentials.
    env:
      settings.account && settings.region
        ? { account: settings.account, region: settings.region }
        : undefined,
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return stack;
}
