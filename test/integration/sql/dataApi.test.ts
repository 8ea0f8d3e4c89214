import type { RDSDataClient } from "@aws-sdk/client-rds-data";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { DatabaseUnavailableError, ValidationError } from "../../../functions/core/errors";
import { createDataApiSqlPort } from "../../../functions/core/sql/dataApiAdapter";
import { json, type SqlPort, uuid } from "../../../functions/core/sql/port";
import { type DataApiServer, startDataApiServer } from "../../support/dataApiServer";
import { useTestDatabase } from "../../support/database";

/**
 * The Data API adapter through the real SDK client, over HTTP, to the Data API-compatible
 * endpoint, on the test PostgreSQL: the same statements must return the same JavaScript
 * values as through the node-postgres adapter.
 */
// A zone far from UTC (with a 45-minute offset), so a value read in the wrong zone shows.
process.env.TZ = "Pacific/Chatham";

describe("Data API adapter against a real PostgreSQL", () => {
  const db = useTestDatabase();
  let server: DataApiServer;
  let client: RDSDataClient;
  let dataApi: SqlPort;
  let direct: SqlPort;
  const delays: number[] = [];

  beforeAll(async () => {
    server = await startDataApiServer({ databaseUrl: db.current.url });
    client = server.createClient();
    dataApi = createDataApiSqlPort({
      client,
      resourceArn: server.resourceArn,
      secretArn: server.secretArn,
      database: server.database,
      resume: { maxWaitMs: 2_000, baseDelayMs: 10, maxDelayMs: 100 },
      sleep: async (ms) => {
        delays.push(ms);
      },
    });
    direct = db.current.sql;
    await direct.query(`
      CREATE TABLE samples (
        id          uuid PRIMARY KEY,
        label       text NOT NULL,
        payload     jsonb,
        happened_at timestamptz,
        hits        int8,
        amount      numeric(12, 4),
        ok          boolean,
        ratio       float8,
        tags        text[],
        scores      int4[],
        note        text
      )`);
  });
  afterAll(async () => {
    await dataApi?.close();
    client?.destroy();
    await server?.close();
  });
  beforeEach(async () => {
    await direct.query("TRUNCATE samples");
    delays.length = 0;
  });

  const sample = {
    id: "7f1c7a2e-4b7e-4d2a-9f0e-0a1b2c3d4e5f",
    label: `O'Brien said "hi"; -- not a comment :notAParam`,
    payload: { nested: [1, { deep: "it's" }], unicode: "héllo ✓", empty: {}, n: null },
    happenedAt: new Date("2024-02-29T23:59:58.123Z"),
  };

  async function insertSample(port: SqlPort) {
    return port.query(
      `INSERT INTO samples (id, label, payload, happened_at, hits, amount, ok, ratio, tags, scores, note)
       VALUES (:id, :label, :payload, :happenedAt, :hits, 12.5, :ok, :ratio,
               ARRAY['a', 'b''c'], ARRAY[3, 1, 2], :note)
       RETURNING id, happened_at AS "happenedAt"`,
      {
        id: uuid(sample.id),
        label: sample.label,
        payload: json(sample.payload),
        happenedAt: sample.happenedAt,
        hits: 9_007_199_254_740_991,
        ok: true,
        ratio: 0.25,
        note: null,
      },
    );
  }

  it("writes through the Data API what node-postgres reads back, and the reverse", async () => {
    // Prepare
    const select = "SELECT * FROM samples WHERE id = :id";

    // Act
    const returned = await insertSample(dataApi);
    const viaPg = await direct.query(select, { id: uuid(sample.id) });
    const viaDataApi = await dataApi.query(select, { id: uuid(sample.id) });

    // Assess
    expect(returned).toEqual([{ id: sample.id, happenedAt: sample.happenedAt }]);
    expect(viaDataApi).toEqual(viaPg);
    expect(viaDataApi[0]).toEqual({
      id: sample.id,
      label: sample.label,
      payload: sample.payload,
      happened_at: sample.happenedAt,
      hits: 9_007_199_254_740_991,
      amount: 12.5,
      ok: true,
      ratio: 0.25,
      tags: ["a", "b'c"],
      scores: [3, 1, 2],
      note: null,
    });
  });

  it("returns the same values for computed columns: counts, sums, dates, casts", async () => {
    // Prepare
    await insertSample(direct);
    const statement = `
      SELECT count(*) AS n,
             sum(amount) AS total,
             max(happened_at) AS latest,
             max(happened_at)::date AS day,
             (max(happened_at) + interval '1 hour')::timestamptz AS later,
             bool_and(ok) AS all_ok,
             jsonb_build_object('k', max(label)) AS obj,
             percentile_cont(0.5) WITHIN GROUP (ORDER BY ratio) AS p50,
             :since::timestamptz AS since,
             cast(:ids as jsonb) AS ids,
             ':inLiteral' AS literal,
             gen_random_uuid() IS NOT NULL AS has_uuid
        FROM samples
       WHERE happened_at >= :since AND id = ANY(SELECT jsonb_array_elements_text(:ids)::uuid)`;
    const params = {
      since: new Date("2024-02-29T00:00:00.000Z"),
      ids: json([sample.id]),
    };

    // Act
    const viaPg = await direct.query(statement, params);
    const viaDataApi = await dataApi.query(statement, params);

    // Assess
    expect(viaDataApi).toEqual(viaPg);
    expect(viaDataApi[0]).toMatchObject({
      n: 1,
      total: 12.5,
      latest: sample.happenedAt,
      later: new Date(sample.happenedAt.getTime() + 3_600_000),
      all_ok: true,
      obj: { k: sample.label },
      p50: 0.25,
      since: params.since,
      ids: [sample.id],
      literal: ":inLiteral",
      has_uuid: true,
    });
  });

  it("returns no rows for statements without a result set, and [] for an empty SELECT", async () => {
    // Prepare
    await insertSample(direct);

    // Act
    const update = await dataApi.query("UPDATE samples SET hits = hits - 1 WHERE id = :id", {
      id: uuid(sample.id),
    });
    const none = await dataApi.query("SELECT id FROM samples WHERE label = :label", {
      label: "nobody",
    });
    const [row] = await direct.query("SELECT hits FROM samples");

    // Assess
    expect(update).toEqual([]);
    expect(none).toEqual([]);
    expect(row).toEqual({ hits: 9_007_199_254_740_990 });
  });

  it("commits a transaction's statements together", async () => {
    // Prepare
    const before = server.calls.length;

    // Act
    const result = await dataApi.transaction(async (tx) => {
      await insertSample(tx);
      // Nested transaction calls reuse the outer one.
      return tx.transaction((inner) =>
        inner.query("UPDATE samples SET note = :note RETURNING note", { note: "in tx" }),
      );
    });

    // Assess
    expect(result).toEqual([{ note: "in tx" }]);
    expect(await direct.query("SELECT note FROM samples")).toEqual([{ note: "in tx" }]);
    const operations = server.calls.slice(before).map((c) => c.operation);
    expect(operations).toEqual(["BeginTransaction", "Execute", "Execute", "CommitTransaction"]);
    const ids = new Set(server.calls.slice(before).map((c) => c.transactionId));
    expect([...ids].filter(Boolean)).toHaveLength(1);
    expect(server.openTransactions()).toBe(0);
  });

  it("rolls a transaction back when its function throws", async () => {
    // Prepare
    const failure = new Error("changed my mind");

    // Act
    const run = dataApi.transaction(async (tx) => {
      await insertSample(tx);
      throw failure;
    });

    // Assess
    await expect(run).rejects.toBe(failure);
    expect(await direct.query("SELECT id FROM samples")).toEqual([]);
    expect(server.calls.at(-1)?.operation).toBe("RollbackTransaction");
    expect(server.openTransactions()).toBe(0);
  });

  it("surfaces a SQL error by its AWS name with the SQLSTATE as code, and rolls back", async () => {
    // Prepare
    await insertSample(direct);

    // Act
    const duplicate = dataApi.transaction(async (tx) => {
      await tx.query("UPDATE samples SET note = 'lost'");
      await insertSample(tx);
    });

    // Assess
    await expect(duplicate).rejects.toMatchObject({
      name: "DatabaseErrorException",
      code: "23505",
      message: expect.stringMatching(/duplicate key value/),
    });
    expect(await direct.query("SELECT note FROM samples")).toEqual([{ note: null }]);
    expect(server.openTransactions()).toBe(0);
  });

  it("refuses a timestamp sent as a plain string, as the real Data API does", async () => {
    // Prepare
    await insertSample(direct);

    // Act
    const untyped = dataApi.query("SELECT id FROM samples WHERE happened_at < :when", {
      when: "2030-01-01 00:00:00",
    });

    // Assess
    await expect(untyped).rejects.toMatchObject({ name: "DatabaseErrorException", code: "42883" });
  });

  it("refuses a result over the Data API's 1 MiB limit, which node-postgres returns", async () => {
    // Prepare: rows of 60,000 bytes (under the 64 KB row limit): 18 of them are 1,080,000
    // bytes, over 1 MiB (1,048,576); 17 (1,020,000) are still fine
    const statement = "SELECT repeat('x', 60000) AS big FROM generate_series(1, :rows)";

    // Act
    const viaPg = await direct.query(statement, { rows: 18 });
    const underLimit = await dataApi.query(statement, { rows: 17 });
    const overLimit = dataApi.query(statement, { rows: 18 });

    // Assess
    expect(viaPg).toHaveLength(18);
    expect(underLimit).toHaveLength(17);
    await expect(overLimit).rejects.toMatchObject({
      name: "UnsupportedResultException",
      message: expect.stringMatching(/response size limit/),
    });
  });

  it("refuses a void result column, which node-postgres returns, as the real Data API does", async () => {
    // Prepare
    const statement = "SELECT pg_sleep(0) AS slept";

    // Act
    const viaPg = await direct.query(statement);
    const viaDataApi = dataApi.query(statement);

    // Assess
    expect(viaPg).toEqual([{ slept: "" }]);
    await expect(viaDataApi).rejects.toMatchObject({
      name: "UnsupportedResultException",
      message: expect.stringMatching(/unsupported data type void/),
    });
  });

  it("rejects a statement whose parameter has no value before calling AWS", async () => {
    // Prepare
    const before = server.calls.length;

    // Act
    const run = dataApi.query("SELECT :missing AS m", {});

    // Assess
    await expect(run).rejects.toThrow(ValidationError);
    await expect(run).rejects.toThrow(/:missing/);
    expect(server.calls.length).toBe(before);
  });

  it("refuses the same bad parameters through both adapters, naming them, before any SQL runs", async () => {
    // Prepare
    const bad = [
      [{ a: Number.NaN }, /:a must be a finite number/],
      [{ a: new Date("nope") }, /:a is an invalid Date/],
      [{ a: json(undefined) }, /:a is not JSON-serialisable/],
      [{}, /:a has no value/],
    ] as const;
    const before = server.calls.length;

    for (const [params, message] of bad) {
      // Act
      const viaDataApi = dataApi.query("SELECT :a AS a", params);
      const viaPg = direct.query("SELECT :a AS a", params);

      // Assess
      await expect(viaDataApi).rejects.toThrow(ValidationError);
      await expect(viaDataApi).rejects.toThrow(message);
      await expect(viaPg).rejects.toThrow(ValidationError);
      await expect(viaPg).rejects.toThrow(message);
    }
    expect(server.calls.length).toBe(before);
  });

  it("waits for a resuming database and then succeeds", async () => {
    // Prepare
    server.failNext({ operation: "Execute", name: "DatabaseResumingException", times: 3 });
    const before = server.calls.length;

    // Act
    const rows = await dataApi.query("SELECT 1 AS one");

    // Assess
    expect(rows).toEqual([{ one: 1 }]);
    expect(server.calls.slice(before).map((c) => c.error ?? "ok")).toEqual([
      "DatabaseResumingException",
      "DatabaseResumingException",
      "DatabaseResumingException",
      "ok",
    ]);
    expect(delays).toHaveLength(3);
  });

  it("gives up on a database that keeps resuming with DatabaseUnavailableError", async () => {
    // Prepare
    server.failNext({ name: "DatabaseResumingException", times: 1_000 });

    // Act
    const run = dataApi.query("SELECT 1 AS one");

    // Assess
    await expect(run).rejects.toThrow(DatabaseUnavailableError);
    expect(delays.reduce((a, b) => a + b, 0)).toBe(2_000);
    server.clearFailures();
  });

  it("reports an error for a call whose statement committed anyway, without repeating it", async () => {
    // Prepare: the answer is lost after the statement ran, as with a client-side timeout
    server.failNext({
      operation: "Execute",
      name: "InternalServerErrorException",
      afterRunning: true,
      times: 10,
    });

    // Act
    const run = insertSample(dataApi);

    // Assess: the caller sees a failure although the row exists, exactly once (the SDK's
    // own retries of the 500 each meet the primary key); leases make this safe for claims.
    await expect(run).rejects.toMatchObject({ name: "DatabaseErrorException", code: "23505" });
    server.clearFailures();
    expect(await direct.query("SELECT id FROM samples")).toEqual([{ id: sample.id }]);
  });

  it("answers TransactionNotFoundException for an unknown transaction id", async () => {
    // Prepare
    const { ExecuteStatementCommand } = await import("@aws-sdk/client-rds-data");

    // Act
    const run = client.send(
      new ExecuteStatementCommand({
        resourceArn: server.resourceArn,
        secretArn: server.secretArn,
        sql: "SELECT 1",
        transactionId: "no-such-transaction",
      }),
    );

    // Assess
    await expect(run).rejects.toMatchObject({
      name: "TransactionNotFoundException",
      message: expect.stringMatching(/^Transaction no-such-transaction is not found/),
    });
  });
});
