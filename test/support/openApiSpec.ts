import { readFileSync } from "node:fs";
import { join } from "node:path";
import Ajv2020 from "ajv/dist/2020.js";
import addFormats from "ajv-formats";

/**
 * The committed openapi.json as a validator of real answers: for an operation and a
 * status, is the status documented, and does the body fit the documented schema (JSON
 * Schema 2020-12, which OpenAPI 3.1 schemas are), and is each required header there?
 */

// biome-ignore lint/suspicious/noExplicitAny: the document is walked as plain JSON
type Json = any;

export const OPENAPI_DOCUMENT: Json = JSON.parse(
  readFileSync(join(import.meta.dirname, "..", "..", "openapi.json"), "utf8"),
);

const COMPONENTS_ID = "https://task-pipeline.invalid/components";

/** `discriminator` is OpenAPI's, not JSON Schema's: the `oneOf` with `const` does the work. */
function forAjv(node: Json): Json {
  if (Array.isArray(node)) return node.map(forAjv);
  if (typeof node !== "object" || node === null) return node;
  return Object.fromEntries(
    Object.entries(node)
      .filter(([key]) => key !== "discriminator")
      .map(([key, value]) => [
        key,
        key === "$ref" && typeof value === "string"
          ? value.replace("#/components/schemas/", `${COMPONENTS_ID}#/$defs/`)
          : forAjv(value),
      ]),
  );
}

export interface Operation {
  method: string;
  path: string;
  operationId: string;
  responses: Record<string, Json>;
}

export function operations(document: Json = OPENAPI_DOCUMENT): Operation[] {
  return Object.entries(document.paths as Record<string, Record<string, Json>>).flatMap(
    ([path, methods]) =>
      Object.entries(methods).map(([method, op]) => ({
        method: method.toUpperCase(),
        path,
        operationId: op.operationId,
        responses: op.responses,
      })),
  );
}

export function createSpecValidator(document: Json = OPENAPI_DOCUMENT) {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats(ajv);
  ajv.addSchema({ $id: COMPONENTS_ID, $defs: forAjv(document.components.schemas) });
  const byId = new Map(operations(document).map((op) => [op.operationId, op]));

  /** Problems with one answer; empty when the spec describes it. */
  function check(operationId: string, status: number, body: unknown, headers: Headers): string[] {
    const op = byId.get(operationId);
    if (!op) return [`no operation ${operationId}`];
    const response = op.responses[String(status)];
    if (!response) return [`${operationId}: status ${status} is not in the spec`];
    return checkBody(`${operationId} ${status}`, response, body, headers);
  }

  /** Against a component schema (answers to requests no operation describes). */
  function checkComponent(name: string, body: unknown): string[] {
    const validate = ajv.compile({ $ref: `${COMPONENTS_ID}#/$defs/${name}` });
    return validate(body) ? [] : [`${name}: ${ajv.errorsText(validate.errors)}`];
  }

  function checkBody(label: string, response: Json, body: unknown, headers: Headers): string[] {
    const problems: string[] = [];
    for (const [name, header] of Object.entries(response.headers ?? {}) as [string, Json][]) {
      if (header.required && !headers.get(name)) problems.push(`${label}: no ${name} header`);
    }
    const schema = response.content?.["application/json"]?.schema;
    if (!schema) return problems;
    const validate = ajv.compile(forAjv(schema));
    if (!validate(body)) problems.push(`${label}: ${ajv.errorsText(validate.errors)}`);
    return problems;
  }

  return { check, checkComponent };
}
