import { SignJWT } from "jose";
import { describe, expect, it } from "vitest";
import { createJwtAuthorizer } from "../../../functions/local/jwtAuthorizer";
import { jwtSecretKey, signLocalToken } from "../../../functions/local/token";

const SECRET = "unit-test-secret";
const authorizer = createJwtAuthorizer({ secret: SECRET });

describe("the local JWT authorizer", () => {
  it("accepts a valid token and passes its claims on as strings, as API Gateway does", async () => {
    // Prepare
    const token = await signLocalToken({
      sub: "alice",
      secret: SECRET,
      claims: { scope: "tasks/read tasks/write", groups: ["admin", "dev"], level: 3 },
    });

    // Act
    const result = await authorizer.authorize(`Bearer ${token}`);

    // Assess
    if (!result.authorized) throw new Error(`refused: ${result.reason}`);
    expect(result.context.jwt.claims).toMatchObject({
      sub: "alice",
      scope: "tasks/read tasks/write",
      groups: "[admin dev]",
      level: "3",
    });
    expect(result.context.jwt.claims.exp).toMatch(/^\d+$/);
    expect(result.context.jwt.scopes).toEqual(["tasks/read", "tasks/write"]);
  });

  it("gives null scopes to a token without a scope claim", async () => {
    // Act
    const result = await authorizer.authorize(
      `Bearer ${await signLocalToken({ sub: "bob", secret: SECRET })}`,
    );

    // Assess
    expect(result.authorized && result.context.jwt.scopes).toBeNull();
  });

  it("refuses a token signed with another secret", async () => {
    // Prepare
    const token = await signLocalToken({ sub: "alice", secret: "some-other-secret" });

    // Act
    const result = await authorizer.authorize(`Bearer ${token}`);

    // Assess
    expect(result).toEqual({ authorized: false, reason: "bad signature" });
  });

  it("refuses a token whose header names a critical parameter, with a reason quoting none of it", async () => {
    // Prepare: jose's own message would quote the parameter's name, newline and all.
    const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
    const header = encode({ alg: "HS256", crit: ["a\nb"], "a\nb": 1 });
    const token = `${header}.${encode({ sub: "alice", exp: 4_000_000_000 })}.c2ln`;

    // Act
    const result = await authorizer.authorize(`Bearer ${token}`);

    // Assess
    expect(result).toEqual({ authorized: false, reason: "malformed token" });
  });

  it("refuses an expired token", async () => {
    // Prepare
    const token = await signLocalToken({
      sub: "alice",
      secret: SECRET,
      expiresIn: Math.floor(Date.now() / 1000) - 60,
    });

    // Act
    const result = await authorizer.authorize(`Bearer ${token}`);

    // Assess
    expect(result).toEqual({ authorized: false, reason: "the token has expired" });
  });

  it("refuses a token without sub, or with an empty one", async () => {
    // Prepare
    const sign = (payload: Record<string, unknown>) =>
      new SignJWT(payload)
        .setProtectedHeader({ alg: "HS256" })
        .setExpirationTime("1h")
        .sign(jwtSecretKey(SECRET));

    // Act
    const missing = await authorizer.authorize(`Bearer ${await sign({})}`);
    const empty = await authorizer.authorize(`Bearer ${await sign({ sub: " " })}`);

    // Assess
    expect(missing.authorized).toBe(false);
    expect(empty.authorized).toBe(false);
  });

  it("refuses a token without exp, another algorithm, and malformed headers", async () => {
    // Prepare
    const noExpiry = await new SignJWT({ sub: "alice" })
      .setProtectedHeader({ alg: "HS256" })
      .sign(jwtSecretKey(SECRET));
    const hs512 = await new SignJWT({ sub: "alice" })
      .setProtectedHeader({ alg: "HS512" })
      .setExpirationTime("1h")
      .sign(jwtSecretKey(SECRET));
    const valid = await signLocalToken({ sub: "alice", secret: SECRET });

    // Act
    const results = await Promise.all([
      authorizer.authorize(`Bearer ${noExpiry}`),
      authorizer.authorize(`Bearer ${hs512}`),
      authorizer.authorize(undefined),
      authorizer.authorize(valid),
      authorizer.authorize("Bearer not.a.token"),
      authorizer.authorize(`Basic ${valid}`),
    ]);

    // Assess
    for (const result of results) expect(result.authorized).toBe(false);
  });
});
