import { ExecuteStatementCommand, RDSDataClient } from "@aws-sdk/client-rds-data";
import { mockClient } from "aws-sdk-client-mock";
import { afterEach, describe, expect, inject, it, vi } from "vitest";
import { createSqlPort } from "../../../functions/core/sql/fromSettings";

const rds = mockClient(RDSDataClient);

const dataApiSettings = {
  DB_CLUSTER_ARN: "arn:aws:rds:eu-west-1:123456789012:cluster:tasks",
  DB_SECRET_ARN: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:tasks-db",
  DB_NAME: "tasks",
};

describe("createSqlPort", () => {
  afterEach(() => {
    rds.reset();
  });

  it("uses node-postgres when DATABASE_URL is set", async () => {
    // Prepare
    const sql = createSqlPort({ DATABASE_URL: inject("postgres").serverUrl, DB_NAME: "tasks" });

    // Act
    const rows = await sql.query("SELECT current_setting('server_version_num') <> '' AS pg");
    await sql.close();

    // Assess
    expect(rows).toEqual([{ pg: true }]);
    expect(rds.calls()).toHaveLength(0);
  });

  it("uses the Data API on the cluster, secret and database named by the settings", async () => {
    // Prepare
    rds.on(ExecuteStatementCommand).resolves({
      records: [[{ longValue: 1 }]],
      columnMetadata: [{ name: "one", label: "one", typeName: "int4" }],
    });
    const client = new RDSDataClient({ region: "eu-west-1" });
    const destroy = vi.spyOn(client, "destroy");
    const sql = createSqlPort(dataApiSettings, { client });

    // Act
    const rows = await sql.query("SELECT 1 AS one");
    await sql.close();

    // Assess
    expect(rows).toEqual([{ one: 1 }]);
    expect(rds.commandCalls(ExecuteStatementCommand)[0]?.args[0].input).toMatchObject({
      resourceArn: dataApiSettings.DB_CLUSTER_ARN,
      secretArn: dataApiSettings.DB_SECRET_ARN,
      database: "tasks",
    });
    // The caller's client outlives the port.
    expect(destroy).not.toHaveBeenCalled();
  });

  it("destroys the client it created itself when the port closes", async () => {
    // Prepare
    const destroy = vi.spyOn(RDSDataClient.prototype, "destroy");
    const sql = createSqlPort(dataApiSettings);

    // Act
    await sql.close();

    // Assess
    expect(destroy).toHaveBeenCalledTimes(1);
  });
});
