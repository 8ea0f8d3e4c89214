import { errors, type JWTPayload, jwtVerify } from "jose";
import { jwtSecretKey } from "./token";

/**
 * Plays API Gateway's JWT authorizer for the local runtime: verifies `Authorization:
 * Bearer <token>` (HS256, signed with LOCAL_JWT_SECRET) and hands the claims on in the shape
 * API Gateway gives them to the Lambda.
 *
 * API Gateway checks the signature, `exp`, `nbf` and `iat`; this one also requires `sub`
 * (the API's task owner), so a token without one is a 401 here rather than an anonymous
 * caller reaching the handler. The deployed authorizer gets the same guarantee from its
 * identity provider, whose tokens always carry a `sub`.
 */

/** `requestContext.authorizer` of an HTTP API payload v2 event with a JWT authorizer. */
export interface JwtAuthorizerContext {
  jwt: {
    /** Every claim as a string, as API Gateway renders them (numbers, arrays included). */
    claims: Record<string, string>;
    /** The `scope` claim split on spaces; null when the token has none. */
    scopes: string[] | null;
  };
}

export type AuthorizationResult =
  | { authorized: true; context: JwtAuthorizerContext }
  | { authorized: false; reason: string };

export interface JwtAuthorizer {
  authorize(authorizationHeader: string | undefined): Promise<AuthorizationResult>;
}

export function createJwtAuthorizer(options: { secret: string }): JwtAuthorizer {
  if (!options.secret) throw new Error("the JWT authorizer needs a secret");
  const key = jwtSecretKey(options.secret);
  return {
    async authorize(header) {
      const token = bearerToken(header);
      if (!token) return { authorized: false, reason: "no bearer token" };
      let payload: JWTPayload;
      try {
        ({ payload } = await jwtVerify(token, key, {
          algorithms: ["HS256"],
          requiredClaims: ["sub", "exp"],
        }));
      } catch (error) {
        return { authorized: false, reason: describeJoseError(error) };
      }
      if (typeof payload.sub !== "string" || payload.sub.trim() === "") {
        return { authorized: false, reason: "the token's sub claim is empty" };
      }
      return { authorized: true, context: toAuthorizerContext(payload) };
    },
  };
}

function bearerToken(header: string | undefined): string | undefined {
  const match = /^Bearer[ ]+([^ ]+)[ ]*$/i.exec(header ?? "");
  return match?.[1];
}

/** Claims whose failures are named; any other claim is not named (it is the caller's text). */
const NAMED_CLAIMS = new Set(["sub", "exp", "nbf", "iat", "iss", "aud"]);
const CLAIM_PROBLEMS = new Set(["missing", "check_failed", "invalid"]);

/**
 * A reason from a fixed set of texts, never the verifier's message: that quotes the token
 * (a `crit` parameter's name, say), and the reason goes into a response header.
 */
function describeJoseError(error: unknown): string {
  if (error instanceof errors.JWTExpired) return "the token has expired";
  if (error instanceof errors.JWSSignatureVerificationFailed) return "bad signature";
  if (
    error instanceof errors.JWTClaimValidationFailed &&
    NAMED_CLAIMS.has(error.claim) &&
    CLAIM_PROBLEMS.has(error.reason)
  )
    return `claim ${error.claim}: ${error.reason}`;
  if (error instanceof errors.JWTClaimValidationFailed) return "a claim is not valid";
  return "malformed token";
}

/**
 * API Gateway passes every claim on as a string: `"exp": "1787996002"`, and an array as its
 * items space-separated in brackets (`"[admin user]"`, measured against a real HTTP API).
 */
export function toAuthorizerContext(payload: JWTPayload): JwtAuthorizerContext {
  const claims: Record<string, string> = {};
  for (const [name, value] of Object.entries(payload)) {
    if (value === undefined || value === null) continue;
    if (Array.isArray(value)) claims[name] = `[${value.map(String).join(" ")}]`;
    else if (typeof value === "object") claims[name] = JSON.stringify(value);
    else claims[name] = String(value);
  }
  const scope = typeof payload.scope === "string" ? payload.scope.split(" ").filter(Boolean) : [];
  return { jwt: { claims, scopes: scope.length > 0 ? scope : null } };
}
