/**
 * Placeholders in cdk.json: values that synthesize but cannot deploy (a documentation
 * example of an endpoint service, an origin or issuer under a domain reserved for examples
 * by RFC 2606). CloudFormation would fail on them halfway through a deploy, minutes in and
 * with a message about a resource, not the setting; synth refuses them first, for the
 * environment being synthesized only (dev synthesizes while prod still holds an example).
 */

/** RFC 2606: example.com, example.net, example.org and their subdomains. */
const EXAMPLE_HOST = /(^|\.)example\.(com|net|org)$/i;

/** AWS's documentation example of a VPC endpoint service id, and any run of it. */
const EXAMPLE_ENDPOINT_SERVICE = /vpce-svc-0123456789abcdef0?$/;

/** Context key that lets a placeholder through, to synthesize a template for review only. */
export const ALLOW_PLACEHOLDERS_CONTEXT = "allowPlaceholders";

export interface Placeholder {
  /** Dotted path inside the environment's settings, e.g. `ollama.endpointServiceName`. */
  path: string;
  value: string;
}

/** Every string setting that is a placeholder, with its path. */
export function findPlaceholders(settings: unknown, path: string[] = []): Placeholder[] {
  if (typeof settings === "string") {
    return isPlaceholder(settings) ? [{ path: path.join("."), value: settings }] : [];
  }
  if (settings === null || typeof settings !== "object") return [];
  return Object.entries(settings).flatMap(([key, value]) =>
    findPlaceholders(value, [...path, key]),
  );
}

function isPlaceholder(value: string): boolean {
  if (EXAMPLE_ENDPOINT_SERVICE.test(value)) return true;
  try {
    return EXAMPLE_HOST.test(new URL(value).hostname);
  } catch {
    return false;
  }
}
