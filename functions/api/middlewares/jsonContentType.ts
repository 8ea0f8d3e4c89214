import type { MiddlewareObj } from "@middy/core";
import { type ApiContext, type ApiEvent, type ApiResult, HttpError, header } from "../http";

/** `application/json` or a `+json` type, with at most a UTF-8 charset. */
const JSON_MEDIA_TYPE = /^application\/(?:[\w.-]+\+)?json$/i;

/**
 * A request with a body must say it is JSON (415 otherwise): the API reads nothing else,
 * and refusing early keeps a form post or a file upload from being half-understood.
 * Requests without a body (GET, cancel, retry) need no Content-Type.
 */
export function jsonContentType(): MiddlewareObj<ApiEvent, ApiResult, Error, ApiContext> {
  return {
    before({ event }) {
      if (!event.body) return;
      const contentType = header(event, "content-type") ?? "";
      const [mediaType = "", ...parameters] = contentType.split(";").map((part) => part.trim());
      const charset = parameters
        .map((parameter) => /^charset\s*=\s*"?([^";]+)"?$/i.exec(parameter)?.[1])
        .find(Boolean);
      if (!JSON_MEDIA_TYPE.test(mediaType) || (charset && !/^utf-?8$/i.test(charset))) {
        throw new HttpError(
          "unsupported_media_type",
          "request body must be JSON: send Content-Type: application/json (UTF-8)",
          { headers: { "accept-post": "application/json" } },
        );
      }
    },
  };
}
