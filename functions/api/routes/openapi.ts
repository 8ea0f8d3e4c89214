import { z } from "zod";
import { jsonResponse } from "../http";
import type { OpenApiDocument } from "../openapi";
import type { PublicHandler } from "../router";

/**
 * GET /api/openapi.json: the API's own description, for generating a typed client. Public
 * (it describes the API, not anyone's data). The document is built on first use and kept:
 * it depends only on the code.
 */
export function openApiRoute(buildDocument: () => OpenApiDocument): PublicHandler {
  let document: OpenApiDocument | undefined;
  return {
    docs: {
      summary: "This document",
      tags: ["health"],
      responses: {
        200: {
          description: "The OpenAPI 3.1 document.",
          schema: z.record(z.string(), z.unknown()),
        },
      },
      errors: [],
    },
    async handle() {
      document ??= buildDocument();
      return jsonResponse(200, document);
    },
  };
}
