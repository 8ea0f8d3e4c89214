import { z } from "zod";
import { ApiSettingsSchema } from "../core/config/settings";
import {
  INLINE_INPUT_BYTES,
  INLINE_RESULT_BYTES,
  LARGE_RESPONSE_BYTES,
  MAX_INPUT_BYTES,
  MAX_RESULT_BYTES,
} from "../core/tasks/byteBudgets";
import type { TaskTypeCatalog } from "./deps";
import { API_ERRORS, errorCodesFor } from "./errorCodes";
import { COMPONENT_REF, ComponentSchemas, type JsonSchema, TaggedUnion } from "./openapiSchemas";
import type { Route } from "./router";
import {
  CreateTaskBodySchema,
  ErrorBodySchema,
  GatewayErrorSchema,
  TaskViewSchema,
} from "./schemas";

/**
 * The OpenAPI 3.1 document, generated from the very zod schemas the routes parse with
 * (OpenAPI 3.1 schemas are JSON Schema 2020-12, which `z.toJSONSchema` writes). Every
 * route in the router is in it, each task type's input and result are components, and
 * the create body is a `oneOf` over the types, discriminated by `type`, so a generated
 * client knows which input goes with which type. Deterministic: the same code gives the
 * same bytes (types sorted, no timestamps), so `openapi.json` diffs cleanly in git.
 */

export type { JsonSchema };
export type OpenApiDocument = Record<string, unknown> & { paths: Record<string, unknown> };

/** MAX_BODY_BYTES's default, as the settings define it. */
const MAX_BODY_BYTES_DEFAULT = ApiSettingsSchema.shape.MAX_BODY_BYTES.parse(undefined);

/** The HTTP API contract's version (not the package's): bump it when the contract changes. */
export const API_VERSION = "1.0.0";

/** The contract's license: package.json's `license` (a test holds the two together). */
export const API_LICENSE = { name: "MIT License", identifier: "MIT" } as const;

/**
 * Statuses any operation can answer, wherever they come from. Any request may carry a body,
 * and the body checks run before routing: 400 (not JSON), 413 (over MAX_BODY_BYTES, or
 * over API Gateway's 10 MB), 415 (not JSON). API Gateway throttles every route (429) and
 * answers 500 when the Lambda fails and 503 when it does not answer in time.
 */
const EVERY_OPERATION = [400, 413, 415, 429, 500, 503];

/** Statuses API Gateway answers by itself, in its own `{"message"}` body (GatewayError). */
const GATEWAY_STATUSES: Record<number, string> = {
  401: "API Gateway's JWT authorizer refused the token (missing, expired, wrong issuer or audience); `WWW-Authenticate` says why.",
  413: "Over API Gateway's own 10 MB payload limit, or over Lambda's 6 MB invocation payload (the body as the Lambda event carries it, its JSON escaped once more).",
  429: "API Gateway's throttling (the stage's rate and burst limits); retry with backoff.",
  500: "The api Lambda failed before it could answer.",
  503: "The api Lambda did not answer within API Gateway's 30 s.",
};

/** A status's description: its error codes (errorCodes.ts), then what API Gateway adds. */
function statusDescription(status: number, fromHandler: boolean, fromGateway: boolean): string {
  const handler = fromHandler
    ? errorCodesFor(status).map((code) => `\`${code}\`: ${API_ERRORS[code].description}`)
    : [];
  const gateway = fromGateway ? [`GatewayError: ${GATEWAY_STATUSES[status]}`] : [];
  return [...handler, ...gateway].join(" ") || "Error.";
}

export interface OpenApiOptions {
  routes: readonly Route[];
  taskTypes: TaskTypeCatalog;
}

export function buildOpenApiDocument({ routes, taskTypes }: OpenApiOptions): OpenApiDocument {
  const components = new ComponentSchemas();
  components.add("Error", ErrorBodySchema, "output");
  components.add("GatewayError", GatewayErrorSchema, "output");
  const taskVariants = addTaskTypeComponents(components, taskTypes);

  const paths: Record<string, Record<string, unknown>> = {};
  const sorted = [...routes].sort(
    (a, b) => a.path.localeCompare(b.path) || a.method.localeCompare(b.method),
  );
  for (const route of sorted) {
    paths[route.path] ??= {};
    (paths[route.path] as Record<string, unknown>)[route.method.toLowerCase()] = operation(
      route,
      components,
    );
  }
  // The routes' schemas name the task view `Task` (one zod schema for every task type, as
  // the handlers check it); the document makes it the union over the task types.
  components.override("Task", taskVariants);

  return {
    openapi: "3.1.0",
    info: {
      title: "task-pipeline API",
      version: API_VERSION,
      description:
        "Create LLM tasks and follow them to their result. Every route but /api/health and " +
        "/api/openapi.json needs `Authorization: Bearer <JWT>`; the token's `sub` is the " +
        "caller, who sees only their own tasks. The API's errors answer " +
        '`{"error": {"code", "message", "details"?}, "requestId"}` (Error), with an ' +
        "`X-Request-Id` header; a path the API does not have is a 404 and a method a path " +
        "does not have a 405 with `Allow`, in the same shape. What API Gateway answers by " +
        "itself (its JWT authorizer's 401, throttling's 429) is `{\"message\"}` (GatewayError). " +
        `Sizes: a request body up to MAX_BODY_BYTES (${MAX_BODY_BYTES_DEFAULT} bytes by default); a task's \`input\` up to ${MAX_INPUT_BYTES} bytes and its \`result\` up to ${MAX_RESULT_BYTES} bytes as JSON (an \`input\` over it is a 413 whose \`details.field\` names it; a result over it fails the task). ` +
        `Inputs over ${INLINE_INPUT_BYTES} bytes and results over ${INLINE_RESULT_BYTES} are kept in object storage and come back whole. ` +
        `An answer over ${LARGE_RESPONSE_BYTES} bytes is sent gzip-encoded when \`Accept-Encoding\` allows it.`,
      license: API_LICENSE,
    },
    jsonSchemaDialect: "https://json-schema.org/draft/2020-12/schema",
    servers: [
      {
        url: "{origin}",
        description: "The deployment's API endpoint (a stack output), or the local runtime.",
        variables: {
          origin: {
            default: "http://localhost:3000",
            description: "`npm start` listens on http://localhost:3000 (PORT).",
          },
        },
      },
    ],
    tags: [
      { name: "tasks", description: "Create, list, read, cancel and retry tasks." },
      { name: "metrics", description: "The caller's statistics." },
      { name: "health", description: "Liveness and the API's own description." },
    ],
    paths,
    components: {
      schemas: components.sorted(),
      securitySchemes: {
        bearerAuth: {
          type: "http",
          scheme: "bearer",
          bearerFormat: "JWT",
          description: "A JWT from the deployment's issuer; its `sub` claim is the caller.",
        },
      },
    },
  };
}

const REQUEST_ID_HEADER = {
  description: "The request's id, also in error bodies and in every log line about it.",
  schema: { type: "string" },
};
const RETRY_AFTER_HEADER = {
  description: "Seconds to wait before retrying.",
  schema: { type: "integer", minimum: 1 },
};

const ref = (name: string) => ({ $ref: COMPONENT_REF + name });

function operation(route: Route, components: ComponentSchemas): Record<string, unknown> {
  const { docs } = route;
  const parameters: JsonSchema[] = [
    ...objectParameters(docs.pathParams, "path", components),
    ...objectParameters(docs.query, "query", components),
    ...Object.entries(docs.headers ?? {}).map(([name, { schema, description }]) => {
      const { description: _long, ...headerSchema } = components.inline(schema, "input");
      return { name, in: "header", required: false, description, schema: headerSchema };
    }),
  ];

  const authorized = route.auth === "jwt";
  const fromGateway = (status: number) =>
    GATEWAY_STATUSES[status] !== undefined && (status !== 401 || authorized);
  const responses: Record<string, unknown> = {};
  for (const [status, { description, schema }] of Object.entries(docs.responses)) {
    const gateway = fromGateway(Number(status));
    const own = components.inline(schema, "output");
    responses[status] = response(
      gateway ? `${description} GatewayError: ${GATEWAY_STATUSES[Number(status)]}` : description,
      gateway ? { oneOf: [own, ref("GatewayError")] } : own,
      { requestId: !gateway, retryAfter: Number(status) === 503 },
    );
  }

  // The handler answers the route's own errors, the body checks' and a bug's on any route,
  // and 401 on a route that needs a caller; API Gateway adds its own (GATEWAY_STATUSES).
  const handlerStatuses = new Set([
    ...docs.errors,
    400,
    413,
    415,
    500,
    ...(authorized ? [401] : []),
  ]);
  const statuses = new Set([...handlerStatuses, ...EVERY_OPERATION, ...(authorized ? [401] : [])]);
  for (const status of [...statuses].sort()) {
    if (responses[status]) continue;
    const handler = handlerStatuses.has(status) && errorCodesFor(status).length > 0;
    const gateway = fromGateway(status);
    const schema =
      handler && gateway
        ? { oneOf: [ref("Error"), ref("GatewayError")] }
        : ref(handler ? "Error" : "GatewayError");
    responses[status] = response(statusDescription(status, handler, gateway), schema, {
      requestId: !gateway,
      retryAfter: handler && (status === 503 || status === 429),
    });
  }

  return {
    operationId: route.id,
    summary: docs.summary,
    ...(docs.description ? { description: docs.description } : {}),
    tags: docs.tags,
    security: authorized ? [{ bearerAuth: [] }] : [],
    ...(parameters.length > 0 ? { parameters } : {}),
    ...(docs.body ? { requestBody: requestBody(docs.body, components) } : {}),
    responses,
  };
}

/**
 * One response. `requestId`: only the handler answers, so X-Request-Id is always there;
 * when API Gateway may answer instead, it may not be.
 */
function response(
  description: string,
  schema: JsonSchema,
  headers: { requestId: boolean; retryAfter: boolean },
): Record<string, unknown> {
  return {
    description,
    headers: {
      "X-Request-Id": { ...REQUEST_ID_HEADER, required: headers.requestId },
      ...(headers.retryAfter ? { "Retry-After": RETRY_AFTER_HEADER } : {}),
    },
    content: { "application/json": { schema } },
  };
}

function requestBody(body: z.ZodType | { component: string }, components: ComponentSchemas) {
  const schema =
    body instanceof z.ZodType
      ? components.inline(body, "input")
      : { $ref: COMPONENT_REF + body.component };
  return { required: true, content: { "application/json": { schema } } };
}

function objectParameters(
  schema: z.ZodObject | undefined,
  location: "path" | "query",
  components: ComponentSchemas,
): JsonSchema[] {
  if (!schema) return [];
  return Object.entries(schema.shape).map(([name, field]) => {
    const { description, ...fieldSchema } = components.inline(field as z.ZodType, "input");
    return {
      name,
      in: location,
      required: location === "path" || !(field as z.ZodType).safeParse(undefined).success,
      ...(typeof description === "string" ? { description } : {}),
      schema: fieldSchema,
    };
  });
}

/**
 * Per task type: `<Type>Input`, `<Type>Result` (the type's fields plus the envelope every
 * result carries), `Create<Type>TaskRequest` and `<Type>Task`; `CreateTaskRequest` is the
 * `oneOf` of the requests and the returned schema (the document's `Task`) the `oneOf` of the
 * tasks, both discriminated by `type`. A new task type joins both by being registered.
 */
function addTaskTypeComponents(components: ComponentSchemas, taskTypes: TaskTypeCatalog) {
  const requests = new TaggedUnion();
  const tasks = new TaggedUnion();
  for (const name of [...taskTypes.names()].sort()) {
    const type = taskTypes.get(name);
    if (!type) continue;
    const pascal = name.replace(/(^|_)([a-z0-9])/g, (_, __, char: string) => char.toUpperCase());
    const input = z.unknown().meta({ $ref: `${COMPONENT_REF}${pascal}Input` });
    components.add(`${pascal}Input`, type.input.describe(type.description), "input");
    components.add(
      `${pascal}Result`,
      ResultEnvelopeSchema.extend(resultShape(type.output)),
      "output",
    );
    const request = `Create${pascal}TaskRequest`;
    components.add(request, CreateTaskBodySchema.extend({ type: z.literal(name), input }), "input");
    requests.add(name, request);
    const task = `${pascal}Task`;
    components.add(
      task,
      // A fresh object (not TaskViewSchema itself, whose id is `Task`), narrowed to the type.
      z.object(TaskViewSchema.shape).extend({
        type: z.literal(name),
        input: input.describe("The input as accepted at create time."),
        result: z
          .union([z.unknown().meta({ $ref: `${COMPONENT_REF}${pascal}Result` }), z.null()])
          .describe("The task type's result, once completed; null before."),
      }),
      "output",
    );
    tasks.add(name, task);
  }
  components.set(
    "CreateTaskRequest",
    requests.schema(
      "A new task: `type` picks the task type, and `input` must fit that type's input.",
    ),
  );
  return tasks.schema("A task: `type` says which input and result it has.");
}

/** The fields every result has besides the type's own (see functions/core/taskTypes/types.ts). */
const ResultEnvelopeSchema = z.object({
  model: z.string(),
  usage: z.object({ promptTokens: z.int(), completionTokens: z.int() }),
  durationMs: z.number(),
});

function resultShape(output: z.ZodType): z.ZodRawShape {
  return output instanceof z.ZodObject ? output.shape : { value: output };
}
