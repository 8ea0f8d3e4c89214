import { createDataApiSqlPort } from "../../../functions/core/sql/dataApiAdapter";
import { startDataApiServer } from "../../support/dataApiServer";
import { describeTaskStore } from "../../support/storeSuite";

// The store suite through the RDS Data API adapter: the real SDK client over HTTP to the
// Data API-compatible endpoint, which runs the statements on the test PostgreSQL.
describeTaskStore("data-api", async (databaseUrl) => {
  const server = await startDataApiServer({ databaseUrl });
  const client = server.createClient();
  const sql = createDataApiSqlPort({
    client,
    resourceArn: server.resourceArn,
    secretArn: server.secretArn,
    database: server.database,
  });
  return {
    sql,
    async close() {
      await sql.close();
      client.destroy();
      await server.close();
    },
  };
});
