import { z } from "zod";
import type { TaskTypeCatalog } from "./deps";
import type { Route } from "./router";
import { CreateTaskBodySchema, ErrorBodySchema } from "./schemas";

/**
 * The OpenAPI 3.1 document, generated from the very zod schemas the routes parse with
 * (OpenAPI 3.1 schemas are JSON Schema 2020-12, which `z.toJSONSchema` writes). Every
 * route in the router is in it, each task type's input and result are components, and
 * the create body is a `oneOf` over the types, discriminated by `type`, so a generated
 * client knows which input goes with which type. Deterministic: the same code gives the
 * same bytes (types sorted, no timestamps), so `openapi.json` diffs cleanly in git.
 */

export type JsonSchema = Record<string, unknown>;
export type OpenApiDocument = Record<string, unknown> & { paths: Record<string, unknown> };

/** The HTTP API contract's version (not the package's): bump it when the contract changes. */
export const API_VERSION = "1.0.0";

const COMPONENT_REF = "#/components/schemas/";

const ERROR_DESCRIPTIONS: Record<number, string> = {
  400: "Invalid request: `details` lists each failing field by path (validation_failed), or the body is not JSON (invalid_json).",
  401: "No bearer token, or one without a subject.",
  404: "No such task for this caller (another caller's task is a 404 too).",
  405: "The path exists, but not with this method.",
  409: "The task's status does not allow this (conflict), or the Idempotency-Key was used with another body (idempotency_conflict).",
  413: "The body is over the size limit.",
  415: "The body is not JSON.",
  500: "A bug; the answer says nothing more, the logs say everything under the same requestId.",
  503: "The database is unavailable; retry after the Retry-After seconds.",
};

export interface OpenApiOptions {
  routes: readonly Route[];
  taskTypes: TaskTypeCatalog;
}

export function buildOpenApiDocument({ routes, taskTypes }: OpenApiOptions): OpenApiDocument {
  const components = new ComponentSchemas();
  components.add("Error", ErrorBodySchema, "output");
  addTaskTypeComponents(components, taskTypes);

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

  return {
    openapi: "3.1.0",
    info: {
      title: "task-pipeline API",
      version: API_VERSION,
      description:
        "Create LLM tasks and follow them to their result. Every route but /api/health and " +
        "/api/openapi.json needs `Authorization: Bearer <JWT>`; the token's `sub` is the " +
        "caller, who sees only their own tasks. Errors answer " +
        '`{"error": {"code", "message", "details"?}, "requestId"}`.',
    },
    jsonSchemaDialect: "https://json-schema.org/draft/2020-12/schema",
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

  const responses: Record<string, unknown> = {};
  for (const [status, { description, schema }] of Object.entries(docs.responses)) {
    responses[status] = {
      description,
      content: { "application/json": { schema: components.inline(schema, "output") } },
    };
  }
  // Any route may fail with a bug (500); the ones that touch the database list 503 themselves.
  const errors = [...docs.errors, 500];
  for (const status of [...new Set(errors)].sort()) {
    if (responses[status]) continue;
    responses[status] = {
      description: ERROR_DESCRIPTIONS[status] ?? "Error.",
      content: { "application/json": { schema: { $ref: `${COMPONENT_REF}Error` } } },
    };
  }

  return {
    operationId: route.id,
    summary: docs.summary,
    ...(docs.description ? { description: docs.description } : {}),
    tags: docs.tags,
    security: route.auth === "jwt" ? [{ bearerAuth: [] }] : [],
    ...(parameters.length > 0 ? { parameters } : {}),
    ...(docs.body ? { requestBody: requestBody(docs.body, components) } : {}),
    responses,
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
 * result carries) and `Create<Type>TaskRequest`; `CreateTaskRequest` is their `oneOf`.
 */
function addTaskTypeComponents(components: ComponentSchemas, taskTypes: TaskTypeCatalog) {
  const variants: JsonSchema[] = [];
  const mapping: Record<string, string> = {};
  for (const name of [...taskTypes.names()].sort()) {
    const type = taskTypes.get(name);
    if (!type) continue;
    const pascal = name.replace(/(^|_)([a-z0-9])/g, (_, __, char: string) => char.toUpperCase());
    components.add(`${pascal}Input`, type.input.describe(type.description), "input");
    components.add(
      `${pascal}Result`,
      ResultEnvelopeSchema.extend(resultShape(type.output)),
      "output",
    );
    const request = `Create${pascal}TaskRequest`;
    components.add(
      request,
      CreateTaskBodySchema.extend({
        type: z.literal(name),
        input: z.unknown().meta({ $ref: `${COMPONENT_REF}${pascal}Input` }),
      }),
      "input",
    );
    variants.push({ $ref: COMPONENT_REF + request });
    mapping[name] = COMPONENT_REF + request;
  }
  components.set("CreateTaskRequest", {
    description: "A new task: `type` picks the task type, and `input` must fit that type's input.",
    oneOf: variants,
    discriminator: { propertyName: "type", mapping },
  });
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

/** Collects named component schemas; schemas with a `meta({ id })` are hoisted into it too. */
class ComponentSchemas {
  private readonly schemas = new Map<string, JsonSchema>();

  add(name: string, schema: z.ZodType, io: "input" | "output"): void {
    const json = this.inline(schema, io);
    // A registered schema is a ref to itself, already in (inline hoisted it).
    if (json.$ref !== COMPONENT_REF + name) this.set(name, json);
  }

  set(name: string, schema: JsonSchema): void {
    const existing = this.schemas.get(name);
    if (existing && JSON.stringify(existing) !== JSON.stringify(schema)) {
      throw new Error(`openapi: two different schemas named ${name}`);
    }
    this.schemas.set(name, schema);
  }

  /** The JSON Schema for `schema`, with registered (`meta({ id })`) parts as component refs. */
  inline(schema: z.ZodType, io: "input" | "output"): JsonSchema {
    const converted = z.toJSONSchema(schema, {
      target: "draft-2020-12",
      io,
      unrepresentable: "any",
      // Formats say it (date-time, uuid); zod's long regexes would only bloat the document.
      override: ({ jsonSchema }) => {
        const node = jsonSchema as JsonSchema;
        if (typeof node.format === "string") delete node.pattern;
        // z.int()'s implicit safe-integer bounds are noise; real bounds are kept.
        if (node.minimum === Number.MIN_SAFE_INTEGER) delete node.minimum;
        if (node.maximum === Number.MAX_SAFE_INTEGER) delete node.maximum;
      },
    }) as JsonSchema;
    const { $schema: _dialect, $defs, ...rest } = converted;
    for (const [id, definition] of Object.entries(($defs ?? {}) as Record<string, JsonSchema>)) {
      this.set(id, rewriteRefs(definition) as JsonSchema);
    }
    return rewriteRefs(rest) as JsonSchema;
  }

  sorted(): Record<string, JsonSchema> {
    return Object.fromEntries([...this.schemas.entries()].sort(([a], [b]) => a.localeCompare(b)));
  }
}

function rewriteRefs(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(rewriteRefs);
  if (typeof node !== "object" || node === null) return node;
  return Object.fromEntries(
    Object.entries(node).map(([key, value]) => [
      key,
      key === "$ref" && typeof value === "string"
        ? value.replace(/^#\/\$defs\//, COMPONENT_REF)
        : rewriteRefs(value),
    ]),
  );
}
