import { SignJWT } from "jose";

/**
 * Signs the HS256 tokens the local runtime's JWT authorizer accepts (`npm run token`, the
 * startup banner, the e2e suite). In AWS the tokens come from the stack's identity provider.
 */

export interface LocalTokenOptions {
  /** The caller: API Gateway passes it on as the `sub` claim, the API's task owner. */
  sub: string;
  secret: string;
  /** A jose time span (`12h`, `30m`) or seconds since the epoch. Default 12 hours. */
  expiresIn?: string | number;
  /** Extra claims, e.g. `scope`. */
  claims?: Record<string, unknown>;
}

/** A working day: long enough not to expire mid-session, short enough to be thrown away. */
export const DEFAULT_TOKEN_LIFETIME = "12h";

export function jwtSecretKey(secret: string): Uint8Array {
  return new TextEncoder().encode(secret);
}

export function signLocalToken(options: LocalTokenOptions): Promise<string> {
  if (!options.sub.trim()) throw new Error("a token needs a subject (the caller's id)");
  return new SignJWT({ ...options.claims })
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setSubject(options.sub)
    .setIssuedAt()
    .setExpirationTime(options.expiresIn ?? DEFAULT_TOKEN_LIFETIME)
    .sign(jwtSecretKey(options.secret));
}
