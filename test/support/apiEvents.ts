import { randomUUID } from "node:crypto";
import type {
  APIGatewayProxyEventV2WithJWTAuthorizer,
  APIGatewayProxyStructuredResultV2,
  Context,
} from "aws-lambda";
import { createRouter } from "../../functions/api/router";
import { createRoutes } from "../../functions/api/routes";
import { createTaskTypeRegistry } from "../../functions/core/taskTypes/registry";

/**
 * API Gateway HTTP API (payload format 2.0) events as the service sends them to the api
 * Lambda: header names lowercased (duplicates joined with commas), `rawPath` and
 * `rawQueryString` as sent, `queryStringParameters` decoded, bodies of non-text types
 * base64-encoded, and the JWT authorizer's verified claims (all strings) under
 * `requestContext.authorizer.jwt`. See
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html
 */

export interface ApiRequest {
  method: string;
  /** Path, optionally with a query string (`/api/tasks?limit=5`). */
  path: string;
  /** Query parameters added to the path's own. */
  query?: Record<string, string>;
  /** Any case; lowercased as API Gateway does. */
  headers?: Record<string, string>;
  /** An object is sent as JSON (with `content-type: application/json` unless given); a string as is. */
  body?: unknown;
  /** Send the body base64-encoded, as API Gateway does for non-text content types. */
  base64?: boolean;
  /** The token's subject. Undefined: no token (the route is public or the caller forgot it). */
  sub?: string;
  /** Extra claims besides the usual ones. */
  claims?: Record<string, string>;
  /** API Gateway's route key; by default the API's route the request matches (`GET /api/tasks/{id}`), else `$default`. */
  routeKey?: string;
}

export type ApiEvent = APIGatewayProxyEventV2WithJWTAuthorizer;

export function apiEvent(request: ApiRequest): ApiEvent {
  const [rawPath = "/", pathQuery = ""] = splitOnce(request.path, "?");
  const search = new URLSearchParams(pathQuery);
  for (const [key, value] of Object.entries(request.query ?? {})) search.append(key, value);
  const rawQueryString = search.toString();

  const headers: Record<string, string> = {
    accept: "application/json",
    host: "api.example.com",
    "user-agent": "vitest",
    "x-forwarded-proto": "https",
  };
  const given = new Set<string>();
  for (const [name, value] of Object.entries(request.headers ?? {})) {
    const key = name.toLowerCase();
    headers[key] = given.has(key) ? `${headers[key]},${value}` : value;
    given.add(key);
  }

  let body: string | undefined;
  if (request.body !== undefined) {
    body = typeof request.body === "string" ? request.body : JSON.stringify(request.body);
    if (typeof request.body !== "string" && headers["content-type"] === undefined) {
      headers["content-type"] = "application/json";
    }
    headers["content-length"] = String(Buffer.byteLength(body));
  }
  if (request.sub !== undefined) headers.authorization = "Bearer eyJhbGciOiJIUzI1NiJ9.test.sig";

  const route = request.routeKey === undefined ? routeOf(request.method, rawPath) : undefined;
  const routeKey = request.routeKey ?? route?.routeKey ?? "$default";
  const now = Date.now();
  const requestId = `${randomUUID().slice(0, 8)}=`;
  const event: ApiEvent = {
    version: "2.0",
    routeKey,
    rawPath,
    rawQueryString,
    headers,
    requestContext: {
      accountId: "123456789012",
      apiId: "abc123defg",
      domainName: "abc123defg.execute-api.eu-west-1.amazonaws.com",
      domainPrefix: "abc123defg",
      http: {
        method: request.method.toUpperCase(),
        path: rawPath,
        protocol: "HTTP/1.1",
        sourceIp: "203.0.113.7",
        userAgent: "vitest",
      },
      requestId,
      routeKey,
      stage: "$default",
      time: new Date(now).toUTCString(),
      timeEpoch: now,
      authorizer:
        request.sub === undefined
          ? (undefined as never)
          : {
              principalId: "",
              integrationLatency: 0,
              jwt: {
                claims: {
                  sub: request.sub,
                  iss: "https://issuer.example.com",
                  aud: "task-pipeline",
                  iat: String(Math.floor(now / 1000)),
                  exp: String(Math.floor(now / 1000) + 3600),
                  ...request.claims,
                },
                scopes: null,
              },
            },
    },
    isBase64Encoded: request.base64 === true,
  };
  if (rawQueryString) {
    // API Gateway joins repeated parameters with commas.
    const parameters: Record<string, string> = {};
    for (const [key, value] of search) {
      parameters[key] = parameters[key] === undefined ? value : `${parameters[key]},${value}`;
    }
    event.queryStringParameters = parameters;
  }
  if (route?.pathParameters) event.pathParameters = route.pathParameters;
  if (body !== undefined) {
    event.body = request.base64 ? Buffer.from(body, "utf8").toString("base64") : body;
  }
  if (request.sub === undefined)
    delete (event.requestContext as { authorizer?: unknown }).authorizer;
  return event;
}

/** A Lambda context like the Node.js runtime's, with a generous time budget. */
export function lambdaContext(budgetMs = 30_000): Context {
  const deadline = Date.now() + budgetMs;
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: "task-pipeline-test-api",
    functionVersion: "$LATEST",
    invokedFunctionArn: "arn:aws:lambda:eu-west-1:123456789012:function:task-pipeline-test-api",
    memoryLimitInMB: "512",
    awsRequestId: randomUUID(),
    logGroupName: "/aws/lambda/task-pipeline-test-api",
    logStreamName: "2026/01/01/[$LATEST]0123456789abcdef",
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => {},
    fail: () => {},
    succeed: () => {},
  };
}

export interface ApiAnswer {
  status: number;
  headers: Record<string, string>;
  /** The body parsed as JSON (undefined when there is none). */
  // biome-ignore lint/suspicious/noExplicitAny: tests read answers field by field
  body: any;
  /** The body as sent. */
  text: string;
}

export type LambdaApiHandler = (event: ApiEvent, context: Context) => Promise<unknown>;

/** Sends `request` through `handler` as API Gateway would, and reads the answer. */
export async function callApi(handler: LambdaApiHandler, request: ApiRequest): Promise<ApiAnswer> {
  const result = (await handler(
    apiEvent(request),
    lambdaContext(),
  )) as APIGatewayProxyStructuredResultV2;
  const headers = Object.fromEntries(
    Object.entries(result.headers ?? {}).map(([name, value]) => [
      name.toLowerCase(),
      String(value),
    ]),
  );
  const text = result.body ?? "";
  return {
    status: result.statusCode ?? 200,
    headers,
    body: text === "" ? undefined : JSON.parse(text),
    text,
  };
}

/**
 * The route API Gateway would pick (the API's own route table): its key and decoded path
 * parameters, as the HTTP API sends them with explicit routes.
 */
const apiRouter = createRouter(createRoutes(createTaskTypeRegistry()));

function routeOf(
  method: string,
  rawPath: string,
): { routeKey: string; pathParameters?: Record<string, string> } | undefined {
  const match = apiRouter.match(method.toUpperCase(), rawPath);
  if (match.kind !== "route") return undefined;
  const { route, params } = match;
  return {
    routeKey: `${route.method} ${route.path}`,
    ...(Object.keys(params).length > 0 ? { pathParameters: params } : {}),
  };
}

function splitOnce(value: string, separator: string): [string, string] {
  const at = value.indexOf(separator);
  return at === -1 ? [value, ""] : [value.slice(0, at), value.slice(at + 1)];
}
