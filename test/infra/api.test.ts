import { Match } from "aws-cdk-lib/assertions";
import { describe, expect, it } from "vitest";
import { API_ROUTES, CORS_RULES } from "../../functions/api/routeTable";
import { loadEnvironment } from "../../lib/config/loadEnvironment";
import {
  cdkJsonContext,
  ENVIRONMENT_NAMES,
  environmentIn,
  synthesize,
  synthesized,
} from "./support/synth";
import {
  lambdaEnvironment,
  onlyResource,
  pipelineFunction,
  referencedId,
  referencedIds,
  resourcesOfType,
} from "./support/template";

const settingsOf = (name: string) => loadEnvironment(cdkJsonContext().environments, name).settings;

/** The contract's routes (docs/design.md "The HTTP API" plus the OpenAPI document), as route keys. */
const CONTRACT_ROUTES = [
  "GET /api/health",
  "POST /api/tasks",
  "POST /api/tasks/batch",
  "GET /api/tasks",
  "GET /api/tasks/{id}",
  "POST /api/tasks/{id}/cancel",
  "POST /api/tasks/{id}/retry",
  "GET /api/metrics",
  "GET /api/openapi.json",
];

/**
 * The routes callable without a token: the liveness probe (docs/design.md) and the API's own
 * description (no one's data; lib/api.ts says why). Everything else needs the JWT.
 */
const PUBLIC_ROUTES = ["GET /api/health", "GET /api/openapi.json"];

describe("the HTTP API", () => {
  it("has every route of the contract, each proxied to the api Lambda with payload v2", () => {
    // Prepare
    const { template } = synthesized("dev");
    const [apiFunctionId] = pipelineFunction(template, "api");

    // Act
    const routes = Object.values(resourcesOfType(template, "AWS::ApiGatewayV2::Route"));

    // Assess: the shared route table (functions/api/routeTable.ts) builds them; this is the contract.
    expect(routes.map((r) => r.Properties?.RouteKey).sort()).toEqual(
      [...CONTRACT_ROUTES, "$default"].sort(),
    );
    expect(
      API_ROUTES.filter((r) => !r.authorized)
        .map((r) => `${r.method} ${r.path}`)
        .sort(),
    ).toEqual([...PUBLIC_ROUTES].sort());
    template.hasResourceProperties("AWS::ApiGatewayV2::Integration", {
      IntegrationType: "AWS_PROXY",
      PayloadFormatVersion: "2.0",
      IntegrationUri: { "Fn::GetAtt": [apiFunctionId, "Arn"] },
    });
  });

  it("puts the JWT authorizer on every route but the health check, the OpenAPI document and $default", () => {
    for (const name of ENVIRONMENT_NAMES) {
      // Prepare
      const { template } = synthesized(name);
      const [authorizerId] = onlyResource(template, "AWS::ApiGatewayV2::Authorizer");

      // Act
      const routes = Object.values(resourcesOfType(template, "AWS::ApiGatewayV2::Route"));

      // Assess
      for (const route of routes) {
        const key = route.Properties?.RouteKey;
        // $default only answers 404/405 (lib/api.ts): nothing behind it needs a caller.
        if ([...PUBLIC_ROUTES, "$default"].includes(key as string)) {
          expect(route.Properties?.AuthorizationType ?? "NONE").toBe("NONE");
          expect(route.Properties?.AuthorizerId).toBeUndefined();
        } else {
          expect(route.Properties, `${name}: ${key}`).toMatchObject({
            AuthorizationType: "JWT",
            AuthorizerId: { Ref: authorizerId },
          });
        }
      }
    }
  });

  it("verifies tokens issued by the stack's Cognito user pool for its app client", () => {
    // Prepare
    const { template } = synthesized("prod");
    const [userPoolId] = onlyResource(template, "AWS::Cognito::UserPool");
    const [clientId] = onlyResource(template, "AWS::Cognito::UserPoolClient");

    // Act
    const [, authorizer] = onlyResource(template, "AWS::ApiGatewayV2::Authorizer");

    // Assess
    expect(authorizer.Properties).toMatchObject({
      AuthorizerType: "JWT",
      IdentitySource: ["$request.header.Authorization"],
      JwtConfiguration: {
        Audience: [{ Ref: clientId }],
        Issuer: {
          "Fn::Join": ["", expect.arrayContaining(["https://cognito-idp.", { Ref: userPoolId }])],
        },
      },
    });
    // prod: administrators create users, MFA is required, the pool survives the stack.
    template.hasResource("AWS::Cognito::UserPool", {
      DeletionPolicy: "Retain",
      Properties: Match.objectLike({
        MfaConfiguration: "ON",
        DeletionProtection: "ACTIVE",
        AdminCreateUserConfig: { AllowAdminCreateUserOnly: true },
      }),
    });
  });

  it("uses an external issuer and audience from the settings instead, with no user pool", () => {
    // Prepare
    const issuer = "https://login.example.com/";
    const { template } = synthesize("staging", {
      editContext: (context) => {
        environmentIn(context, "staging").auth = {
          mode: "jwt",
          issuer,
          audience: ["task-pipeline-api"],
        };
      },
    });

    // Act
    const [, authorizer] = onlyResource(template, "AWS::ApiGatewayV2::Authorizer");

    // Assess
    expect(authorizer.Properties?.JwtConfiguration).toEqual({
      Issuer: issuer,
      Audience: ["task-pipeline-api"],
    });
    template.resourceCountIs("AWS::Cognito::UserPool", 0);
    expect(template.findOutputs("UserPoolId")).toEqual({});
  });

  it("answers CORS preflight for the origins of each environment's settings", () => {
    for (const name of ENVIRONMENT_NAMES) {
      // Prepare
      const { corsOrigins } = settingsOf(name).api;
      const { template } = synthesized(name);

      // Act
      const [, api] = onlyResource(template, "AWS::ApiGatewayV2::Api");

      // Assess
      expect(api.Properties?.CorsConfiguration, name).toMatchObject({
        AllowOrigins: corsOrigins,
        AllowHeaders: expect.arrayContaining(["authorization", "content-type", "idempotency-key"]),
        ExposeHeaders: expect.arrayContaining(["x-request-id", "location", "retry-after"]),
      });
      expect(
        (api.Properties?.CorsConfiguration as { AllowMethods?: string[] } | undefined)
          ?.AllowMethods,
        name,
      ).toEqual([...CORS_RULES.allowMethods]);
      // API Gateway answers CORS and replaces a Lambda's CORS headers: the api sets none.
      expect(lambdaEnvironment(pipelineFunction(template, "api")[1]).CORS_ORIGINS).toBeUndefined();
    }
    // The environments really differ, so the test would notice settings being ignored.
    expect(settingsOf("prod").api.corsOrigins).not.toEqual(settingsOf("dev").api.corsOrigins);
  });

  it("throttles on an explicitly created $default stage, with the settings' limits and access logs", () => {
    // Prepare
    const { throttle } = settingsOf("prod").api;
    const { template } = synthesized("prod");
    const [apiId] = onlyResource(template, "AWS::ApiGatewayV2::Api");

    // Act
    const [, stage] = onlyResource(template, "AWS::ApiGatewayV2::Stage");

    // Assess
    expect(stage.Properties).toMatchObject({
      ApiId: { Ref: apiId },
      StageName: "$default",
      AutoDeploy: true,
      DefaultRouteSettings: {
        ThrottlingRateLimit: throttle.rateLimit,
        ThrottlingBurstLimit: throttle.burstLimit,
      },
    });
    const accessLogs = stage.Properties?.AccessLogSettings as {
      DestinationArn: unknown;
      Format: string;
    };
    expect(Object.keys(resourcesOfType(template, "AWS::Logs::LogGroup"))).toContain(
      referencedId(accessLogs.DestinationArn),
    );
    expect(JSON.parse(accessLogs.Format)).toMatchObject({ requestId: "$context.requestId" });
  });

  it("gives the api Lambda its limits and the model allowlist from the settings", () => {
    // Prepare
    const settings = settingsOf("dev");
    const { template } = synthesized("dev");

    // Act
    const [, fn] = pipelineFunction(template, "api");

    // Assess
    expect(lambdaEnvironment(fn)).toMatchObject({
      MAX_BODY_BYTES: String(settings.api.maxBodyBytes),
      HEALTH_TIMEOUT_MS: String(settings.api.healthTimeoutMs),
      MAX_PENDING_PER_OWNER: String(settings.api.maxPendingPerOwner),
      OLLAMA_MODEL: settings.ollama.defaultModel,
      OLLAMA_MODELS: settings.ollama.models.join(","),
      PIPELINE_ENV: "dev",
      POWERTOOLS_SERVICE_NAME: "api",
    });
    // Not in the VPC: it reaches the Data API's public endpoint, cold starts stay short.
    expect(fn.Properties?.VpcConfig).toBeUndefined();
    expect(fn.Properties?.Timeout).toBeLessThanOrEqual(29);
  });

  it("outputs the API URL, the user pool ids, the dashboard and the failed-tasks queue", () => {
    // Prepare
    const { template } = synthesized("dev");
    const [userPoolId] = onlyResource(template, "AWS::Cognito::UserPool");
    const [clientId] = onlyResource(template, "AWS::Cognito::UserPoolClient");
    const [apiId] = onlyResource(template, "AWS::ApiGatewayV2::Api");

    // Act
    const outputs = template.toJSON().Outputs as Record<string, { Value: unknown }>;

    // Assess
    expect(referencedIds(outputs.ApiUrl?.Value)).toEqual(new Set([apiId]));
    expect(JSON.stringify(outputs.ApiUrl?.Value)).toContain(".execute-api.");
    expect(outputs.UserPoolId?.Value).toEqual({ Ref: userPoolId });
    expect(outputs.UserPoolClientId?.Value).toEqual({ Ref: clientId });
    expect(outputs.DashboardName?.Value).toBe("TaskPipeline-dev");
    expect(referencedId(outputs.FailedTasksQueueUrl?.Value)).toMatch(/^FailedTasks/);
  });
});
