import { gzipSync } from "node:zlib";
import type { MiddlewareObj } from "@middy/core";
import { z } from "zod";
import { LARGE_RESPONSE_BYTES } from "../../core/tasks/byteBudgets";
import type { ApiContext, ApiEvent, ApiResult } from "../http";
import { middlewareOptions } from "./options";

const OptionsSchema = z.object({
  /** Answers whose body is over this many bytes are encoded (see below). */
  aboveBytes: z.int().min(1).default(LARGE_RESPONSE_BYTES),
});

/**
 * Big answers (a task with a multi-megabyte input, a list page of them) leave as base64,
 * gzipped first when the client accepts gzip (browsers, fetch and curl --compressed do).
 * Why: Lambda's 6 MB limit counts the serialized response, where a JSON body is escaped
 * once more (every `"` becomes `\"`), so a body of quotes would double; base64 grows by
 * exactly 4/3 whatever the content, which is what core/tasks/byteBudgets.ts budgets for.
 * API Gateway decodes `isBase64Encoded` bodies before sending them (payload format 2.0),
 * and an HTTP API does not compress answers itself (only REST APIs have
 * minimumCompressionSize), so the gzip is ours.
 */
export function largeResponses(
  options: z.input<typeof OptionsSchema> = {},
): MiddlewareObj<ApiEvent, ApiResult, Error, ApiContext> {
  const { aboveBytes } = middlewareOptions("largeResponses", OptionsSchema, options);
  return {
    after(request) {
      const response = request.response;
      if (!response || typeof response.body !== "string" || response.isBase64Encoded) return;
      const bytes = Buffer.from(response.body, "utf8");
      if (bytes.byteLength <= aboveBytes) return;
      const gzip = acceptsGzip(request.event.headers?.["accept-encoding"]);
      response.body = (gzip ? gzipSync(bytes) : bytes).toString("base64");
      response.isBase64Encoded = true;
      response.headers = {
        ...response.headers,
        vary: "accept-encoding",
        ...(gzip ? { "content-encoding": "gzip" } : {}),
      };
    },
  };
}

/** Whether an Accept-Encoding header admits gzip (`gzip;q=0` refuses it). */
export function acceptsGzip(header: string | undefined): boolean {
  if (!header) return false;
  return header.split(",").some((part) => {
    const [coding, ...params] = part.trim().toLowerCase().split(";");
    if (coding !== "gzip" && coding !== "*") return false;
    const q = params.map((p) => p.trim()).find((p) => p.startsWith("q="));
    return q === undefined || Number(q.slice(2)) > 0;
  });
}
