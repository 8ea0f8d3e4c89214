import { App } from "aws-cdk-lib";
import { describe, expect, it } from "vitest";
import { SettingsError } from "../../functions/core/errors";
import { findPlaceholders } from "../../lib/config/placeholders";
import { addTaskPipeline } from "../../lib/pipelineApp";
import { cdkJsonContext, environmentIn } from "./support/synth";

/**
 * A placeholder in cdk.json (an example endpoint service or origin) synthesizes but fails a
 * deploy halfway: synth refuses it for the environment being synthesized, naming the setting.
 */

/** Builds the app as `cdk synth -c env=NAME` does, without the test support's allowance. */
function build(envName: string, edit?: (context: Record<string, unknown>) => void): App {
  const context = { ...cdkJsonContext(), env: envName, "aws:cdk:bundling-stacks": [] };
  edit?.(context);
  const app = new App({ context });
  addTaskPipeline(app);
  return app;
}

function failureOf(run: () => unknown): SettingsError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(SettingsError);
    return error as SettingsError;
  }
  throw new Error("expected synth to refuse");
}

describe("placeholders in cdk.json", () => {
  it("refuses prod's example endpoint service and origin, naming each setting", () => {
    // Act
    const error = failureOf(() => build("prod"));

    // Assess
    expect(error.message).toContain(
      'environments.prod.ollama.endpointServiceName ("com.amazonaws.vpce.eu-west-1.vpce-svc-0123456789abcdef0")',
    );
    expect(error.message).toContain(
      'environments.prod.api.corsOrigins.0 ("https://tasks.example.com")',
    );
    expect(error.message).toContain("-c allowPlaceholders=true");
  });

  it("synthesizes dev while prod still holds placeholders", () => {
    // Prepare
    const prod = environmentIn(cdkJsonContext(), "prod");

    // Act
    const app = build("dev");

    // Assess
    expect(findPlaceholders(prod).length).toBeGreaterThan(0);
    expect(app.node.findChild("TaskPipeline-dev")).toBeDefined();
  });

  it("synthesizes prod once the real values are set", () => {
    // Prepare
    const setReal = (context: Record<string, unknown>) => {
      const prod = environmentIn(context, "prod");
      prod.ollama.endpointServiceName = "com.amazonaws.vpce.eu-west-1.vpce-svc-0a1b2c3d4e5f60718";
      prod.api.corsOrigins = ["https://tasks.acme.io"];
    };

    // Act
    const app = build("prod", setReal);

    // Assess
    expect(app.node.findChild("TaskPipeline-prod")).toBeDefined();
  });

  it("finds example hosts anywhere in the settings but leaves real ones", () => {
    // Act
    const found = findPlaceholders({
      auth: { issuer: "https://login.example.org/", audience: ["app"] },
      api: { corsOrigins: ["http://localhost:5173", "https://app.example.com.evil.io"] },
    });

    // Assess
    expect(found).toEqual([{ path: "auth.issuer", value: "https://login.example.org/" }]);
  });
});
