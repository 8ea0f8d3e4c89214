import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { ErrorBodySchema } from "../../../functions/api/schemas";
import { TASK_STATUSES } from "../../../functions/core/tasks/model";
import type { ApiAnswer, ApiRequest } from "../../support/apiEvents";
import { useTestDatabase } from "../../support/database";
import { createTestApi, DEFAULT_MODEL, OTHER_MODEL, type TestApi, validBodies } from "./testApi";

/**
 * Whatever arrives, the API answers 2xx, or 4xx in the error shape, and never a 500: random
 * methods, paths, queries, headers, callers and bodies (random JSON, random text, huge
 * numbers, unicode, unpaired surrogates, prototype-pollution keys, wrong types), all
 * against the real database.
 */

const db = useTestDatabase();
let api: TestApi;
const CALLER = "prop-user";
const taskIds: string[] = [];

beforeAll(async () => {
  api = createTestApi(db.current.sql);
  // Real rows for the random paths to hit, in several states.
  for (const body of Object.values(validBodies)) {
    const answer = await api.call({ method: "POST", path: "/api/tasks", sub: CALLER, body });
    taskIds.push(answer.body.id);
  }
  await api.call({ method: "POST", path: `/api/tasks/${taskIds[0]}/cancel`, sub: CALLER });
});

// ------------------------------------------------------------------ arbitraries

/** Strings with the awkward parts of Unicode: unpaired surrogates, NUL, RTL marks, emoji. */
const nastyString = fc.oneof(
  fc.string({ unit: "binary", maxLength: 40 }),
  fc.string({ unit: "grapheme", maxLength: 40 }),
  fc.constantFrom(
    "\ud800",
    "a\udc00b",
    "\u0000",
    "\u202e",
    "🤖".repeat(3),
    "' OR 1=1 --",
    "%00",
    "..",
    "",
  ),
);

/** JSON values: random JSON, plus numbers as text JSON.parse turns into ±Infinity or rounds. */
const jsonValue = fc.jsonValue({ maxDepth: 3 });
const hugeNumberText = fc.constantFrom(
  "1e999",
  "-1e999",
  "123456789012345678901234567890",
  "-0",
  "0.1e-400",
);

const pollutionKey = fc.constantFrom(
  "__proto__",
  "constructor",
  "prototype",
  "toString",
  "hasOwnProperty",
);

/** An object with own properties named like prototype machinery (as JSON.parse makes them). */
const pollutedObject = fc
  .tuple(
    fc.dictionary(fc.string({ maxLength: 10 }), jsonValue, { maxKeys: 3 }),
    pollutionKey,
    jsonValue,
  )
  .map(([base, key, value]) => {
    const object: Record<string, unknown> = { ...base };
    Object.defineProperty(object, key, {
      value,
      enumerable: true,
      configurable: true,
      writable: true,
    });
    return object;
  });

const taskInput = fc.oneof(
  fc.constantFrom(...Object.values(validBodies).map((body) => body.input)),
  fc.record(
    {
      text: fc.oneof(nastyString, jsonValue),
      topic: fc.oneof(nastyString, jsonValue),
      prompt: fc.oneof(nastyString, jsonValue),
      maxWords: fc.oneof(fc.integer(), fc.double(), jsonValue),
      wordCount: fc.oneof(fc.integer(), fc.double()),
      keywords: fc.array(fc.oneof(nastyString, jsonValue), { maxLength: 4 }),
      format: fc.oneof(fc.constant("json"), jsonValue, pollutedObject),
      options: fc.oneof(jsonValue, fc.record({ temperature: fc.double(), seed: fc.integer() })),
    },
    { requiredKeys: [] },
  ),
  pollutedObject,
  jsonValue,
);

/** Create bodies that are valid: any type, unicode titles, every allowed knob. */
const validCreate = fc
  .record(
    {
      base: fc.constantFrom(...Object.values(validBodies)),
      title: fc.string({ unit: "grapheme", minLength: 1, maxLength: 50 }),
      priority: fc.integer({ min: -1000, max: 1000 }),
      maxAttempts: fc.integer({ min: 1, max: 10 }),
      model: fc.constantFrom(DEFAULT_MODEL, OTHER_MODEL, "Llama3.2:latest"),
      runAt: fc
        .integer({ min: -86_400_000, max: 86_400_000 })
        .map((offset) => new Date(Date.UTC(2026, 0, 1) + offset).toISOString()),
    },
    { requiredKeys: ["base"] },
  )
  .map(({ base, ...knobs }) => ({ ...base, ...knobs }) as Record<string, unknown>);

/** Create-shaped bodies with any values in the right keys. */
const randomCreate = fc.record(
  {
    type: fc.oneof(fc.constantFrom(...Object.keys(validBodies)), nastyString, jsonValue),
    input: taskInput,
    title: fc.oneof(nastyString, jsonValue, fc.string({ minLength: 190, maxLength: 210 })),
    priority: fc.oneof(
      fc.integer(),
      fc.double(),
      fc.constantFrom(1000, 1001, -1000, 2 ** 53),
      jsonValue,
    ),
    runAt: fc.oneof(
      fc.date({ noInvalidDate: true }).map((date) => date.toISOString()),
      nastyString,
      jsonValue,
    ),
    maxAttempts: fc.oneof(fc.integer({ min: -5, max: 20 }), jsonValue),
    model: fc.oneof(fc.constantFrom(DEFAULT_MODEL, "LLAMA3.2", "gpt-4o"), nastyString, jsonValue),
  },
  { requiredKeys: [] },
);

/** A valid body with one field replaced by anything (or a polluting key added). */
const mutatedCreate = fc
  .tuple(
    validCreate,
    fc.oneof(
      fc.constantFrom("type", "input", "title", "priority", "runAt", "maxAttempts", "model"),
      pollutionKey,
      fc.string({ maxLength: 8 }),
    ),
    fc.oneof(jsonValue, nastyString, taskInput),
  )
  .map(([valid, key, value]) => {
    const body: Record<string, unknown> = { ...valid };
    Object.defineProperty(body, key, {
      value,
      enumerable: true,
      configurable: true,
      writable: true,
    });
    return body;
  });

/** Create bodies as JSON text, sometimes with a number JSON.stringify could never write. */
const createBody = fc
  .tuple(
    fc.oneof(
      { weight: 2, arbitrary: validCreate },
      { weight: 3, arbitrary: mutatedCreate },
      { weight: 3, arbitrary: randomCreate },
    ),
    fc.option(hugeNumberText, { nil: undefined, freq: 8 }),
  )
  .map(([fields, hugeNumber]) => {
    const text = JSON.stringify(fields);
    return hugeNumber ? text.replace(/^\{/, `{"priority":${hugeNumber},`) : text;
  });

const body = fc.oneof(
  { weight: 5, arbitrary: createBody },
  { weight: 1, arbitrary: fc.constant(undefined) },
  { weight: 2, arbitrary: jsonValue.map((value) => JSON.stringify(value)) },
  { weight: 1, arbitrary: nastyString },
  { weight: 1, arbitrary: fc.json({ maxDepth: 4 }).map((text) => `${text}}`) },
  { weight: 1, arbitrary: pollutedObject.map((value) => JSON.stringify(value)) },
  // Over MAX_BODY_BYTES (8 KiB in these tests).
  {
    weight: 1,
    arbitrary: fc.integer({ min: 8_193, max: 20_000 }).map((n) => `"${"a".repeat(n)}"`),
  },
);

const taskSegment = fc.oneof(
  fc.constantFrom(...[0, 1, 2].map((i) => () => taskIds[i] as string)).map((id) => id()),
  fc.uuid(),
  nastyString.map((text) => encodeURIComponent(text.replace(/[\ud800-\udfff]/g, "x"))),
  fc.constantFrom("%zz", "%", "..", "%2F", "00000000-0000-0000-0000-000000000000"),
);

const path = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.constantFrom("/api/tasks", "/api/health", "/api/metrics", "/api/openapi.json"),
  },
  {
    weight: 4,
    arbitrary: fc
      .tuple(taskSegment, fc.constantFrom("", "/cancel", "/retry", "/", "/other"))
      .map(([id, suffix]) => `/api/tasks/${id}${suffix}`),
  },
  { weight: 1, arbitrary: fc.webPath() },
  { weight: 1, arbitrary: nastyString.map((text) => `/api/${text}`) },
);

const query = fc.dictionary(
  fc.oneof(fc.constantFrom("status", "type", "limit", "cursor"), nastyString),
  fc.oneof(
    fc.constantFrom(
      ...TASK_STATUSES,
      "summarize",
      "50",
      "0",
      "101",
      "-1",
      "1e2",
      "NaN",
      "eyJ2IjoxfQ",
    ),
    fc.integer().map(String),
    nastyString,
  ),
  { maxKeys: 4 },
);

const headers = fc
  .record(
    {
      "content-type": fc.oneof(
        fc.constantFrom(
          "application/json",
          "application/json; charset=utf-8",
          "application/json; charset=utf-16",
          "application/vnd.api+json",
          "text/plain",
          "multipart/form-data; boundary=x",
          "",
        ),
        nastyString,
      ),
      "idempotency-key": fc.oneof(fc.uuid(), fc.constantFrom("k1", "k2"), nastyString),
      origin: fc.constantFrom("https://app.example.com", "https://evil.example.com", "null"),
    },
    { requiredKeys: [] },
  )
  .chain((known) =>
    fc
      .dictionary(fc.stringMatching(/^[A-Za-z][A-Za-z0-9-]{0,15}$/), fc.string({ maxLength: 30 }), {
        maxKeys: 3,
      })
      .map((extra) => ({ ...extra, ...known })),
  );

const request: fc.Arbitrary<ApiRequest> = fc.record({
  method: fc.constantFrom(
    "GET",
    "GET",
    "POST",
    "POST",
    "PUT",
    "DELETE",
    "PATCH",
    "OPTIONS",
    "HEAD",
  ),
  path,
  query,
  headers,
  body,
  base64: fc.boolean(),
  sub: fc.oneof(
    fc.constant(undefined),
    fc.constant(CALLER),
    fc.constant("prop-other"),
    // Subjects no real issuer sends, but a caller id must never reach SQL unchecked.
    fc.constantFrom("a\u0000b", "\ud800", "", " ", "s".repeat(300)),
    nastyString,
  ),
});

// ------------------------------------------------------------------ the property

const STACK_OR_INTERNALS = /\n\s+at |node_modules|\.ts:\d+|lease_owner|request_hash|pg_catalog/;

function assertWellFormed(answer: ApiAnswer) {
  expect(answer.status, answer.text).toBeGreaterThanOrEqual(200);
  expect(answer.status, answer.text).toBeLessThan(500);
  expect(answer.status === 204 || (answer.status >= 300 && answer.status < 400), answer.text).toBe(
    answer.status === 204,
  );
  expect(answer.headers["x-request-id"]).toBeTruthy();
  expect(answer.headers["x-content-type-options"]).toBe("nosniff");
  expect(answer.text).not.toMatch(STACK_OR_INTERNALS);
  if (answer.status >= 400) {
    const error = ErrorBodySchema.strict().parse(answer.body);
    expect(error.requestId).toBe(answer.headers["x-request-id"]);
  }
}

describe("any request", () => {
  // Each run is a real request against the real database: ~10 ms alone, several times
  // that on a busy 2-core machine, hence the generous timeouts.
  it("is answered 2xx, or 4xx in the error shape; never 5xx (1,200 random requests)", {
    timeout: 300_000,
  }, async () => {
    // Prepare
    const statuses = new Set<number>();

    // Act + Assess (each run)
    await fc.assert(
      fc.asyncProperty(request, async (random) => {
        const answer = await api.call(random);
        statuses.add(answer.status);
        assertWellFormed(answer);
      }),
      { numRuns: 1_200 },
    );

    // Assess: the requests reached every kind of answer, not just the first check that fails
    expect([...statuses].sort()).toEqual(
      expect.arrayContaining([200, 204, 400, 401, 404, 405, 413, 415]),
    );
  });

  it("creating: any body is a 201/200 task or a 4xx naming what is wrong (1,000 random bodies)", {
    timeout: 300_000,
  }, async () => {
    // Prepare
    const statuses = new Set<number>();

    // Act + Assess (each run)
    await fc.assert(
      fc.asyncProperty(
        createBody,
        fc.constantFrom("none", "shared", "own"),
        fc.uuid(),
        async (text, keyMode, ownKey) => {
          // "shared": one key for every run, so differing bodies meet a 409; "own": a fresh
          // key, and the same request sent again must answer 200 with the same task.
          const key =
            keyMode === "shared" ? "property-key" : keyMode === "own" ? ownKey : undefined;
          const send = () =>
            api.call({
              method: "POST",
              path: "/api/tasks",
              sub: CALLER,
              body: text,
              headers: {
                "content-type": "application/json",
                ...(key ? { "idempotency-key": key } : {}),
              },
            });
          const answer = await send();
          statuses.add(answer.status);
          assertWellFormed(answer);
          expect([200, 201, 400, 409], answer.text).toContain(answer.status);
          if (answer.status === 400) expect(answer.body.error.message).toMatch(/\S/);
          if (answer.status === 201 && keyMode === "own") {
            const replay = await send();
            statuses.add(replay.status);
            expect(replay.status, replay.text).toBe(200);
            expect(replay.body).toEqual(answer.body);
          }
        },
      ),
      { numRuns: 1_000 },
    );

    // Assess: bodies were created, replayed, refused and in conflict
    expect([...statuses].sort()).toEqual([200, 201, 400, 409]);
  });
});
