/**
 * The OpenAPI document's component schemas, built from zod: JSON Schema 2020-12 (what
 * OpenAPI 3.1 schemas are) as `z.toJSONSchema` writes it, with registered parts
 * (`meta({ id })`) hoisted into named components, and `oneOf` unions tagged by `type`.
 */
import { z } from "zod";

export type JsonSchema = Record<string, unknown>;

export const COMPONENT_REF = "#/components/schemas/";

/** A `oneOf` over components, discriminated by `type`. */
export class TaggedUnion {
  private readonly variants: JsonSchema[] = [];
  private readonly mapping: Record<string, string> = {};

  add(type: string, component: string): void {
    this.variants.push({ $ref: COMPONENT_REF + component });
    this.mapping[type] = COMPONENT_REF + component;
  }

  schema(description: string): JsonSchema {
    return {
      description,
      oneOf: this.variants,
      discriminator: { propertyName: "type", mapping: this.mapping },
    };
  }
}

/** Collects named component schemas; schemas with a `meta({ id })` are hoisted into it too. */
export class ComponentSchemas {
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
        // A request field with a default is optional, but openapi-typescript (defaults on)
        // types any schema with a `default` as required, so a generated client would have
        // to send `priority` and `maxAttempts`. The default goes into the description.
        if (io === "input" && "default" in node) {
          const text = `Default: ${JSON.stringify(node.default)}.`;
          node.description = node.description ? `${node.description} ${text}` : text;
          delete node.default;
        }
      },
    }) as JsonSchema;
    const { $schema: _dialect, $defs, ...rest } = converted;
    for (const [id, definition] of Object.entries(($defs ?? {}) as Record<string, JsonSchema>)) {
      this.set(id, rewriteRefs(definition) as JsonSchema);
    }
    return rewriteRefs(rest) as JsonSchema;
  }

  /** Replaces a component the routes' schemas named (the one place a name means more). */
  override(name: string, schema: JsonSchema): void {
    if (!this.schemas.has(name)) throw new Error(`openapi: no component ${name} to override`);
    this.schemas.set(name, schema);
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
