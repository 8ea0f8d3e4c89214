import type { MiddlewareObj } from "@middy/core";
import { z } from "zod";
import { type ApiContext, type ApiEvent, type ApiResult, HttpError } from "../http";
import { middlewareOptions } from "./options";

const OptionsSchema = z.object({
  /** Largest accepted body in bytes (decoded); API Gateway itself stops at 10 MB. */
  maxBytes: z.int().min(1),
});

/** Refuses a body over the limit with 413 before anything reads it. */
export function bodyLimit(
  options: z.input<typeof OptionsSchema>,
): MiddlewareObj<ApiEvent, ApiResult, Error, ApiContext> {
  const { maxBytes } = middlewareOptions("bodyLimit", OptionsSchema, options);
  return {
    before({ event }) {
      if (!event.body) return;
      const size = Buffer.byteLength(event.body, event.isBase64Encoded ? "base64" : "utf8");
      if (size > maxBytes) {
        throw new HttpError(
          "payload_too_large",
          `request body is ${size} bytes; the limit is ${maxBytes}`,
          { details: { maxBytes } },
        );
      }
    },
  };
}
