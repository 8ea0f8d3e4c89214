import { isUtf8 } from "node:buffer";
import type { APIGatewayProxyEventV2WithJWTAuthorizer, APIGatewayProxyResultV2 } from "aws-lambda";
import { securityHeaderValues } from "../api/middlewares/securityHeaders";
import type { JwtAuthorizerContext } from "./jwtAuthorizer";
import type { RouteMatch } from "./routes";

/**
 * Turns an HTTP request into the event API Gateway (HTTP API, payload format 2.0) would
 * send the api Lambda, and the Lambda's result back into an HTTP response, following
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html
 * Pure functions: the HTTP server does the I/O.
 */

export interface IncomingApiRequest {
  method: string;
  /** The request target as sent: path and query string, still percent-encoded. */
  url: string;
  /** Node's `rawHeaders`: names and values alternating, duplicates kept. */
  rawHeaders: readonly string[];
  body: Buffer;
  sourceIp: string;
  requestId: string;
  /** When the request arrived (ms since the epoch). */
  receivedAt: number;
  /** The Host the stage answers on, for `domainName`. */
  host: string;
}

/** API Gateway's own identifiers; fixed for the local runtime. */
const API_ID = "local";
const ACCOUNT_ID = "000000000000";

export type ApiGatewayEvent = APIGatewayProxyEventV2WithJWTAuthorizer;

export function toApiGatewayEvent(
  request: IncomingApiRequest,
  route: RouteMatch,
  authorizer: JwtAuthorizerContext | undefined,
): ApiGatewayEvent {
  const queryStart = request.url.indexOf("?");
  const rawPath = queryStart === -1 ? request.url : request.url.slice(0, queryStart);
  const rawQueryString = queryStart === -1 ? "" : request.url.slice(queryStart + 1);
  const { headers, cookies } = collectHeaders(request.rawHeaders);
  const queryStringParameters = parseQueryString(rawQueryString);
  const hasBody = request.body.length > 0;
  // The event travels as JSON, which holds text only as UTF-8: a "text" body that is not
  // UTF-8 goes base64 like a binary one, byte for byte, and the handler decides (it refuses
  // it with a 400). Decoding it here would swap each bad byte for U+FFFD unseen.
  const binary = hasBody && (!isTextContentType(headers["content-type"]) || !isUtf8(request.body));

  const event: ApiGatewayEvent = {
    version: "2.0",
    routeKey: route.routeKey,
    rawPath,
    rawQueryString,
    headers,
    requestContext: {
      accountId: ACCOUNT_ID,
      apiId: API_ID,
      domainName: request.host,
      domainPrefix: request.host.split(".")[0] ?? request.host,
      http: {
        method: request.method.toUpperCase(),
        path: rawPath,
        protocol: "HTTP/1.1",
        sourceIp: request.sourceIp,
        userAgent: headers["user-agent"] ?? "",
      },
      requestId: request.requestId,
      routeKey: route.routeKey,
      stage: "$default",
      time: formatClfTime(request.receivedAt),
      timeEpoch: request.receivedAt,
      // Routes without an authorizer carry no `authorizer` in AWS either.
      ...(authorizer ? { authorizer } : {}),
    } as ApiGatewayEvent["requestContext"],
    isBase64Encoded: binary,
  };
  if (cookies.length > 0) event.cookies = cookies;
  if (queryStringParameters) event.queryStringParameters = queryStringParameters;
  if (route.pathParameters) event.pathParameters = route.pathParameters;
  if (hasBody)
    event.body = binary ? request.body.toString("base64") : request.body.toString("utf8");
  return event;
}

/**
 * Header names lowercased; repeated headers joined with commas; `Cookie` headers moved to
 * `cookies`, one entry per cookie.
 */
function collectHeaders(rawHeaders: readonly string[]): {
  headers: Record<string, string>;
  cookies: string[];
} {
  const headers: Record<string, string> = {};
  const cookies: string[] = [];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = (rawHeaders[i] as string).toLowerCase();
    const value = rawHeaders[i + 1] as string;
    if (name === "cookie") {
      cookies.push(
        ...value
          .split(";")
          .map((cookie) => cookie.trim())
          .filter(Boolean),
      );
      continue;
    }
    headers[name] = name in headers ? `${headers[name]},${value}` : value;
  }
  return { headers, cookies };
}

/** Decoded values, repeated names joined with commas; undefined when there is no query. */
export function parseQueryString(rawQueryString: string): Record<string, string> | undefined {
  if (rawQueryString === "") return undefined;
  const parameters: Record<string, string> = {};
  for (const [name, value] of new URLSearchParams(rawQueryString)) {
    parameters[name] = name in parameters ? `${parameters[name]},${value}` : value;
  }
  return Object.keys(parameters).length > 0 ? parameters : undefined;
}

/** Bodies API Gateway passes as text; anything else (or no Content-Type) arrives base64. */
export function isTextContentType(contentType: string | undefined): boolean {
  if (!contentType) return false;
  const type = contentType.split(";")[0]?.trim().toLowerCase() ?? "";
  return (
    type.startsWith("text/") ||
    type.endsWith("+json") ||
    type.endsWith("+xml") ||
    [
      "application/json",
      "application/xml",
      "application/javascript",
      "application/x-www-form-urlencoded",
    ].includes(type)
  );
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** `12/Mar/2020:19:03:58 +0000`, the `requestContext.time` format. */
function formatClfTime(epochMs: number): string {
  const d = new Date(epochMs);
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${pad(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${pad(
    d.getUTCHours(),
  )}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} +0000`;
}

export interface OutgoingApiResponse {
  statusCode: number;
  /** Header name → values (`set-cookie` may repeat). */
  headers: Record<string, string[]>;
  body: Buffer;
}

/**
 * Reads the Lambda's result as API Gateway does for payload 2.0: a result without a
 * `statusCode` is itself the body of a 200 `application/json` answer; `cookies` become
 * `set-cookie` headers; `isBase64Encoded` bodies are decoded.
 */
export function fromLambdaResult(result: APIGatewayProxyResultV2<unknown>): OutgoingApiResponse {
  if (!isStructuredResult(result)) {
    const body = typeof result === "string" ? result : (JSON.stringify(result) ?? "");
    return {
      statusCode: 200,
      headers: { "content-type": ["application/json"] },
      body: Buffer.from(body, "utf8"),
    };
  }
  const headers: Record<string, string[]> = {};
  for (const [name, value] of Object.entries(result.headers ?? {})) {
    headers[name.toLowerCase()] = [String(value)];
  }
  if (result.cookies?.length) headers["set-cookie"] = [...result.cookies];
  const body = result.body ?? "";
  return {
    statusCode: result.statusCode ?? 200,
    headers,
    body: result.isBase64Encoded ? Buffer.from(body, "base64") : Buffer.from(body, "utf8"),
  };
}

function isStructuredResult(result: unknown): result is {
  statusCode?: number;
  headers?: Record<string, string | number | boolean>;
  body?: string;
  isBase64Encoded?: boolean;
  cookies?: string[];
} {
  return (
    typeof result === "object" &&
    result !== null &&
    typeof (result as { statusCode?: unknown }).statusCode === "number"
  );
}

/** API Gateway's own answers, which never reach the Lambda. */
export const GATEWAY_RESPONSES = {
  unauthorized: { statusCode: 401, message: "Unauthorized" },
  tooLarge: { statusCode: 413, message: "Request Entity Too Large" },
  internalError: { statusCode: 500, message: "Internal Server Error" },
} as const;

/** The api handler's security headers (one definition), on the gateway's own answers too. */
const GATEWAY_SECURITY_HEADERS = securityHeaderValues();

export function gatewayResponse(
  kind: keyof typeof GATEWAY_RESPONSES,
  extraHeaders: Record<string, string> = {},
): OutgoingApiResponse {
  const { statusCode, message } = GATEWAY_RESPONSES[kind];
  const headers: Record<string, string[]> = { "content-type": ["application/json"] };
  for (const [name, value] of Object.entries(GATEWAY_SECURITY_HEADERS)) headers[name] = [value];
  for (const [name, value] of Object.entries(extraHeaders)) headers[name] = [value];
  return { statusCode, headers, body: Buffer.from(JSON.stringify({ message }), "utf8") };
}
