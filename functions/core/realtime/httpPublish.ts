/**
 * AppSync Events' HTTP publish as a PublishTransport: `POST https://<http domain>/event`
 * with `{"channel", "events": [JSON texts]}` (at most 5 events,
 * https://docs.aws.amazon.com/appsync/latest/eventapi/publish-http.html), authorized with
 * IAM (SigV4, service `appsync`, by @smithy/signature-v4: the backend's publish mode) or
 * with an API key (`x-api-key`: the local runtime's endpoint, whose key only the runtime
 * and its handlers know). A 200 can still list failed events: that is a failure too.
 */
import { Sha256 } from "@aws-crypto/sha256-js";
import { SignatureV4 } from "@smithy/signature-v4";
import { z } from "zod";
import type { PublishTransport } from "./publisher";

type Credentials = ConstructorParameters<typeof SignatureV4>[0]["credentials"];

export type PublishAuth =
  | { kind: "iam"; region: string; credentials: Credentials }
  | { kind: "apiKey"; apiKey: string };

/** What AppSync Events answers a publish with. */
const PublishAnswerSchema = z.object({
  successful: z.array(z.unknown()).optional(),
  failed: z
    .array(z.object({ identifier: z.string().optional(), code: z.unknown(), message: z.unknown() }))
    .optional(),
});

/** Publishes give up after this long (a Lambda's flush must end well before its timeout). */
const PUBLISH_TIMEOUT_MS = 5_000;

export function createHttpPublishTransport(options: {
  /** The publish URL: `https://<http domain>/event`. */
  url: string;
  auth: PublishAuth;
  fetch?: typeof fetch;
}): PublishTransport {
  const url = new URL(options.url);
  const send = options.fetch ?? fetch;
  const signer =
    options.auth.kind === "iam"
      ? new SignatureV4({
          service: "appsync",
          region: options.auth.region,
          credentials: options.auth.credentials,
          sha256: Sha256,
        })
      : undefined;

  return {
    async publish(channel, events) {
      const body = JSON.stringify({ channel, events });
      let headers: Record<string, string> = { "content-type": "application/json" };
      if (options.auth.kind === "apiKey") {
        headers["x-api-key"] = options.auth.apiKey;
      } else if (signer) {
        const signed = await signer.sign({
          method: "POST",
          protocol: url.protocol,
          hostname: url.hostname,
          port: url.port ? Number(url.port) : undefined,
          path: url.pathname,
          query: {},
          headers: { ...headers, host: url.host },
          body,
        });
        // fetch sets Host from the URL itself (the same value that was signed).
        const { host: _host, ...rest } = signed.headers;
        headers = rest;
      }
      const response = await send(url, {
        method: "POST",
        headers,
        body,
        signal: AbortSignal.timeout(PUBLISH_TIMEOUT_MS),
      });
      const text = await response.text();
      if (!response.ok) {
        throw new Error(`publish answered ${response.status}: ${text.slice(0, 300)}`);
      }
      const answer = PublishAnswerSchema.safeParse(JSON.parse(text || "{}"));
      if (!answer.success) throw new Error(`publish answer not understood: ${text.slice(0, 300)}`);
      const failed = answer.data.failed ?? [];
      if (failed.length > 0) {
        throw new Error(
          `publish refused ${failed.length} event(s): ${JSON.stringify(failed).slice(0, 300)}`,
        );
      }
    },
  };
}
