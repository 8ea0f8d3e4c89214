import { randomUUID } from "node:crypto";
import {
  createServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
  validateHeaderName,
  validateHeaderValue,
} from "node:http";
import type { APIGatewayProxyResultV2, Context } from "aws-lambda";
import { LAMBDA_REQUEST_LIMIT, LAMBDA_RESPONSE_LIMIT } from "../core/tasks/byteBudgets";
import type { Logger } from "../core/telemetry/ports";
import {
  type ApiGatewayEvent,
  fromLambdaResult,
  gatewayResponse,
  type OutgoingApiResponse,
  toApiGatewayEvent,
} from "./apiGatewayEvent";
import { applyCorsHeaders, type CorsConfig, preflightHeaders } from "./cors";
import type { JwtAuthorizer } from "./jwtAuthorizer";
import { createLambdaContext } from "./lambdaContext";
import { matchRoute } from "./routes";

/**
 * The local stand-in for API Gateway: an HTTP server that routes, authorizes, turns each
 * request into a payload v2 event for the api handler and writes its result back.
 */

export type ApiHandler = (
  event: ApiGatewayEvent,
  context: Context,
) => Promise<APIGatewayProxyResultV2<unknown>>;

export interface ApiServerOptions {
  handler: ApiHandler;
  authorizer: JwtAuthorizer;
  cors: CorsConfig;
  logger: Logger;
  /** API Gateway's own payload limit (10 MB); the handler enforces the API's smaller one. */
  maxPayloadBytes?: number;
  /** The api Lambda's timeout, for the handler's context (API Gateway waits at most 30 s). */
  handlerTimeoutMs?: number;
  /**
   * Endpoints that are not API Gateway's, on the same port (the local Event API's publish,
   * the console's files): each answers the request and returns true, or returns false.
   */
  otherEndpoints?: ReadonlyArray<(req: IncomingMessage, res: ServerResponse) => boolean>;
}

const TEN_MEGABYTES = 10 * 1024 * 1024;

export function createApiServer(options: ApiServerOptions): Server {
  const maxPayloadBytes = options.maxPayloadBytes ?? TEN_MEGABYTES;
  const server = createServer((req, res) => {
    for (const endpoint of options.otherEndpoints ?? []) if (endpoint(req, res)) return;
    const started = Date.now();
    const requestId = randomUUID();
    // Nothing one request does may end the process: every failure below ends in an answer
    // (or, when even that fails, a closed connection) and a log line.
    handle(req, requestId, started)
      .catch((error): OutgoingApiResponse | "client gone" => {
        if (clientLeft(req)) return "client gone";
        options.logger.error("request failed in the local gateway", { requestId, error });
        return gatewayResponse("internalError");
      })
      .then((answer) => {
        if (answer === "client gone" || res.destroyed) {
          // A client that hangs up (mid-upload, or before its answer) is no error of ours.
          options.logger.info("client disconnected before its answer", {
            requestId,
            method: req.method,
            path: req.url,
          });
          return;
        }
        write(res, answer, requestId, options.logger);
        // The api handler logs each request it answers; this line adds the gateway's own.
        options.logger.debug("request", {
          requestId,
          method: req.method,
          path: req.url,
          status: answer.statusCode,
          durationMs: Date.now() - started,
        });
      })
      .catch((error) => {
        options.logger.error("could not answer a request; its connection is closed", {
          requestId,
          error,
        });
        res.destroy();
      });
  });
  // Keep-alive connections would hold a stop for up to 5 s; API Gateway's idle timeout
  // does not apply here.
  server.keepAliveTimeout = 1_000;

  async function handle(
    req: IncomingMessage,
    requestId: string,
    receivedAt: number,
  ): Promise<OutgoingApiResponse> {
    if ((req.method ?? "").toUpperCase() === "OPTIONS") {
      await readBody(req, maxPayloadBytes);
      // API Gateway answers every preflight itself, route or not.
      const headers = preflightHeaders(options.cors, req.headers.origin);
      return {
        statusCode: 204,
        headers: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, [v]])),
        body: Buffer.alloc(0),
      };
    }
    const answer = await route(req, requestId, receivedAt);
    return {
      ...answer,
      headers: applyCorsHeaders(options.cors, req.headers.origin, answer.headers),
    };
  }

  async function route(
    req: IncomingMessage,
    requestId: string,
    receivedAt: number,
  ): Promise<OutgoingApiResponse> {
    const method = (req.method ?? "GET").toUpperCase();
    const url = req.url ?? "/";
    const body = await readBody(req, maxPayloadBytes);
    if (body === "too large") return gatewayResponse("tooLarge");

    const rawPath = url.split("?")[0] ?? "/";
    const match = matchRoute(method, rawPath);

    let authorizer: Awaited<ReturnType<JwtAuthorizer["authorize"]>> | undefined;
    if (match.authorized) {
      authorizer = await options.authorizer.authorize(req.headers.authorization);
      if (!authorizer.authorized) {
        // The reason is one of the authorizer's fixed texts (never the caller's); write()
        // answers 500 for any header HTTP cannot carry.
        return gatewayResponse("unauthorized", {
          "www-authenticate": `Bearer error="invalid_token" error_description="${authorizer.reason}"`,
        });
      }
    }

    const event = toApiGatewayEvent(
      {
        method,
        url,
        rawHeaders: req.rawHeaders,
        body,
        sourceIp: req.socket.remoteAddress?.replace(/^::ffff:/, "") ?? "127.0.0.1",
        requestId,
        receivedAt,
        host: req.headers.host ?? "localhost",
      },
      match,
      authorizer?.authorized ? authorizer.context : undefined,
    );
    const context = createLambdaContext({
      functionName: "task-pipeline-api",
      timeoutMs: options.handlerTimeoutMs ?? 30_000,
      awsRequestId: randomUUID(),
    });
    // Lambda's own limits, which API Gateway's 10 MB does not show (gettingstarted-limits:
    // "Invocation payload (request and response) 6 MB each for synchronous"): the invoke is
    // refused over 6,291,556 bytes of event JSON ("Request must be smaller than 6291556
    // bytes for the Invoke operation"), and a result over 6,291,456 bytes serialized fails.
    if (Buffer.byteLength(JSON.stringify(event)) > LAMBDA_REQUEST_LIMIT) {
      return gatewayResponse("tooLarge");
    }
    try {
      const result = await options.handler(event, context);
      const resultBytes = Buffer.byteLength(JSON.stringify(result) ?? "");
      if (resultBytes > LAMBDA_RESPONSE_LIMIT) {
        options.logger.error("api handler's response is over Lambda's 6 MB limit", {
          requestId,
          resultBytes,
        });
        return gatewayResponse("internalError");
      }
      return fromLambdaResult(result);
    } catch (error) {
      // A Lambda that throws is API Gateway's plain 500: nothing of the error reaches the caller.
      options.logger.error("api handler threw", { requestId, error: error });
      return gatewayResponse("internalError");
    }
  }

  return server;
}

function readBody(req: IncomingMessage, limit: number): Promise<Buffer | "too large"> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) tooLarge = true;
      // Past the limit the rest is read and dropped, so the 413 can still be written.
      if (!tooLarge) chunks.push(chunk);
    });
    req.on("end", () => resolve(tooLarge ? "too large" : Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

/** A request that ended before all of it arrived: its client hung up. */
function clientLeft(req: IncomingMessage): boolean {
  return !req.complete && (req.destroyed || req.socket.destroyed);
}

function write(
  res: ServerResponse,
  answer: OutgoingApiResponse,
  requestId: string,
  logger: Logger,
): void {
  if (res.headersSent) return;
  const invalid = invalidHeader(answer.headers);
  if (invalid) {
    // API Gateway answers a Lambda result it cannot send with a plain 500, too.
    logger.error("the api handler's answer has a header HTTP cannot carry; answered 500", {
      requestId,
      header: invalid,
    });
    write(res, gatewayResponse("internalError"), requestId, logger);
    return;
  }
  res.statusCode = answer.statusCode;
  for (const [name, values] of Object.entries(answer.headers)) {
    res.setHeader(name, values.length === 1 ? (values[0] as string) : values);
  }
  // API Gateway's own request id header; the api handler's `requestId` is its Lambda's.
  res.setHeader("apigw-requestid", requestId);
  res.setHeader("content-length", answer.body.length);
  res.end(answer.body);
}

/** The name of the first header `setHeader` would throw on (its value is not logged). */
function invalidHeader(headers: Record<string, string[]>): string | undefined {
  for (const [name, values] of Object.entries(headers)) {
    try {
      validateHeaderName(name);
      for (const value of values) validateHeaderValue(name, value);
    } catch {
      return name.replace(/[^\x21-\x7e]/g, "?");
    }
  }
  return undefined;
}
