import { Aws, Duration, RemovalPolicy, Validations } from "aws-cdk-lib";
import { AccessLogFormat } from "aws-cdk-lib/aws-apigateway";
import {
  CorsHttpMethod,
  HttpApi,
  HttpMethod,
  HttpNoneAuthorizer,
  HttpRoute,
  HttpRouteKey,
  HttpStage,
  LogGroupLogDestination,
} from "aws-cdk-lib/aws-apigatewayv2";
import { HttpJwtAuthorizer } from "aws-cdk-lib/aws-apigatewayv2-authorizers";
import { HttpLambdaIntegration } from "aws-cdk-lib/aws-apigatewayv2-integrations";
import { AccountRecovery, Mfa, UserPool, type UserPoolClient } from "aws-cdk-lib/aws-cognito";
import type { NodejsFunction } from "aws-cdk-lib/aws-lambda-nodejs";
import { LogGroup, type RetentionDays } from "aws-cdk-lib/aws-logs";
import { Construct } from "constructs";
import { API_ROUTES, CORS_RULES, DEFAULT_ROUTE_KEY } from "../functions/api/routeTable";
import { ApiSettingsSchema, OllamaSettingsSchema } from "../functions/core/config/settings";
import type { EnvironmentSettings } from "./config/environmentSettings";
import { checkRuntimeSettings } from "./lambda/checkRuntimeSettings";
import { PipelineFunction } from "./lambda/pipelineFunction";

/**
 * Why each public route (one the route table marks `authorized: false`) may be called
 * without a token. A public route with no entry here stops the synth: opening a route is a
 * decision someone writes down.
 */
const PUBLIC_ROUTE_REASONS: Readonly<Record<string, string>> = {
  "GET /api/health":
    "GET /api/health is the public liveness probe of the HTTP contract: it answers only whether the service and its database respond, never task data.",
  "GET /api/openapi.json":
    "GET /api/openapi.json describes the API (the same for every caller, generated from the code) so a frontend can generate its client; it holds no one's data.",
  [DEFAULT_ROUTE_KEY]:
    "$default catches only requests no route matches; the handler answers them 404 or 405 in the API's error shape and reads no data (a matched route keeps its JWT authorizer).",
};

export interface PipelineApiProps {
  readonly environmentName: string;
  readonly settings: Pick<EnvironmentSettings, "api" | "auth" | "ollama">;
  /** DB_CLUSTER_ARN, DB_SECRET_ARN, DB_NAME. */
  readonly databaseEnvironment: Readonly<Record<string, string>>;
  readonly logRetention: RetentionDays;
  readonly removalPolicy: RemovalPolicy;
}

/**
 * The HTTP API the frontend calls: API Gateway (payload v2, Lambda proxy) in front of the
 * api Lambda, a JWT authorizer on every route but the public ones (health, the OpenAPI
 * document), CORS preflight answered by API
 * Gateway from the configured origins, and throttling on an explicitly created default
 * stage (HTTP APIs only throttle per stage). The JWT issuer is a Cognito user pool made
 * here, or an external issuer and audience from the settings.
 */
export class PipelineApi extends Construct {
  readonly httpApi: HttpApi;
  readonly stage: HttpStage;
  readonly function: NodejsFunction;
  readonly userPool?: UserPool;
  readonly userPoolClient?: UserPoolClient;
  /** The JWT issuer and audiences the authorizer accepts (the real-time channel reuses them). */
  readonly jwtIssuer: string;
  readonly jwtAudience: string[];
  /** The stage's URL, e.g. https://abc123.execute-api.eu-west-1.amazonaws.com/ */
  readonly url: string;

  constructor(scope: Construct, id: string, props: PipelineApiProps) {
    super(scope, id);
    const { api, auth, ollama } = props.settings;

    const environment = {
      ...props.databaseEnvironment,
      MAX_BODY_BYTES: String(api.maxBodyBytes),
      HEALTH_TIMEOUT_MS: String(api.healthTimeoutMs),
      MAX_PENDING_PER_OWNER: String(api.maxPendingPerOwner),
      // The api checks a task's model against the allowlist when the task is created.
      OLLAMA_MODEL: ollama.defaultModel,
      OLLAMA_MODELS: ollama.models.join(","),
    };
    checkRuntimeSettings("api", environment, [ApiSettingsSchema, OllamaSettingsSchema]);

    this.function = new PipelineFunction(this, "Handler", {
      name: "api",
      environmentName: props.environmentName,
      environment,
      // API Gateway gives up on an integration after 30 s.
      timeout: Duration.seconds(29),
      memorySize: api.memoryMb,
      logRetention: props.logRetention,
      logRemovalPolicy: props.removalPolicy,
      functionProps: {
        description: `task-pipeline HTTP API (${props.environmentName})`,
      },
    }).function;

    let issuer: string;
    let audience: string[];
    if (auth.mode === "cognito") {
      const userPool = new UserPool(this, "UserPool", {
        // Users are provisioned by an administrator; nobody signs themselves up.
        selfSignUpEnabled: false,
        signInAliases: { email: true },
        passwordPolicy: {
          minLength: 12,
          requireLowercase: true,
          requireUppercase: true,
          requireDigits: true,
          requireSymbols: true,
        },
        mfa: auth.mfa === "required" ? Mfa.REQUIRED : Mfa.OPTIONAL,
        mfaSecondFactor: { otp: true, sms: false },
        accountRecovery: AccountRecovery.EMAIL_ONLY,
        deletionProtection: props.removalPolicy === RemovalPolicy.RETAIN,
        removalPolicy: props.removalPolicy,
      });
      this.userPool = userPool;
      this.userPoolClient = userPool.addClient("WebClient", {
        generateSecret: false,
        authFlows: { userSrp: true, adminUserPassword: auth.adminPasswordAuth },
        preventUserExistenceErrors: true,
        accessTokenValidity: Duration.hours(1),
        idTokenValidity: Duration.hours(1),
        refreshTokenValidity: Duration.days(30),
      });
      issuer = `https://cognito-idp.${Aws.REGION}.${Aws.URL_SUFFIX}/${userPool.userPoolId}`;
      audience = [this.userPoolClient.userPoolClientId];

      Validations.of(userPool).acknowledge({
        id: "AwsSolutions-COG8",
        reason:
          "Essentials feature plan: the pool has no self sign-up (administrators create the users), and the Plus plan's threat protection is billed per monthly active user.",
      });
      if (auth.mfa !== "required") {
        Validations.of(userPool).acknowledge({
          id: "AwsSolutions-COG2",
          reason:
            "This environment sets auth.mfa optional so scripted test users (LocalStack e2e, dev) can sign in with a password; production requires MFA.",
        });
      }
    } else {
      issuer = auth.issuer;
      audience = auth.audience;
    }

    // Read by the real-time channel too (lib/realtime.ts): its subscribers use the same tokens.
    this.jwtIssuer = issuer;
    this.jwtAudience = audience;
    const authorizer = new HttpJwtAuthorizer("JwtAuthorizer", issuer, {
      jwtAudience: audience,
      identitySource: ["$request.header.Authorization"],
    });

    this.httpApi = new HttpApi(this, "HttpApi", {
      description: `task-pipeline (${props.environmentName})`,
      // Secure by default: a route is authorized unless it says otherwise.
      defaultAuthorizer: authorizer,
      createDefaultStage: false,
      corsPreflight: {
        allowOrigins: api.corsOrigins,
        allowMethods: CORS_RULES.allowMethods.map((method) => CorsHttpMethod[method]),
        allowHeaders: [...CORS_RULES.allowHeaders],
        exposeHeaders: [...CORS_RULES.exposeHeaders],
        maxAge: Duration.seconds(CORS_RULES.maxAgeSeconds),
      },
    });

    // One route per entry of the shared route table (the api's router and the local
    // runtime's gateway read the same table), so the three cannot drift.
    const integration = new HttpLambdaIntegration("ApiIntegration", this.function);
    for (const route of API_ROUTES) {
      const routeKey = `${route.method} ${route.path}`;
      const [created] = this.httpApi.addRoutes({
        path: route.path,
        methods: [HttpMethod[route.method]],
        integration,
        authorizer: route.authorized ? undefined : new HttpNoneAuthorizer(),
      });
      if (!route.authorized && created) {
        const reason = PUBLIC_ROUTE_REASONS[routeKey];
        if (!reason) {
          throw new Error(
            `${routeKey} is public in functions/api/routeTable.ts but lib/api.ts gives no reason`,
          );
        }
        Validations.of(created).acknowledge({ id: "AwsSolutions-APIG4", reason });
      }
    }

    // Unknown paths and methods reach the handler too, which answers them in the API's
    // error shape with a request id (API Gateway's own 404 is a bare {"message"}).
    const fallback = new HttpRoute(this, "DefaultRoute", {
      httpApi: this.httpApi,
      routeKey: HttpRouteKey.DEFAULT,
      integration,
      authorizer: new HttpNoneAuthorizer(),
    });
    Validations.of(fallback).acknowledge({
      id: "AwsSolutions-APIG4",
      reason: PUBLIC_ROUTE_REASONS[DEFAULT_ROUTE_KEY] as string,
    });

    const accessLogs = new LogGroup(this, "AccessLogs", {
      retention: props.logRetention,
      removalPolicy: props.removalPolicy,
    });
    this.stage = new HttpStage(this, "DefaultStage", {
      httpApi: this.httpApi,
      stageName: "$default",
      autoDeploy: true,
      throttle: { rateLimit: api.throttle.rateLimit, burstLimit: api.throttle.burstLimit },
      accessLogSettings: {
        destination: new LogGroupLogDestination(accessLogs),
        format: AccessLogFormat.custom(
          JSON.stringify({
            requestId: "$context.requestId",
            ip: "$context.identity.sourceIp",
            requestTime: "$context.requestTime",
            routeKey: "$context.routeKey",
            status: "$context.status",
            responseLength: "$context.responseLength",
            latencyMs: "$context.responseLatency",
            integrationError: "$context.integrationErrorMessage",
            authorizerError: "$context.authorizer.error",
            sub: "$context.authorizer.claims.sub",
          }),
        ),
      },
    });
    this.url = this.stage.url;
  }
}
