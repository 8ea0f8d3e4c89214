import { createDataApiSqlPort } from "../../../functions/core/sql/dataApiAdapter";
import { describeClaimCheck } from "../../support/claimCheckSuite";
import { describeCreateLimits } from "../../support/createLimitsSuite";
import { startDataApiServer } from "../../support/dataApiServer";
import { describeTaskStore, type MakePort } from "../../support/storeSuite";

// The store suite through the RDS Data API adapter: the real SDK client over HTTP to the
// Data API-compatible endpoint, which runs the statements on the test PostgreSQL.
const makePort: MakePort = async (databaseUrl) => {
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
};

describeTaskStore("data-api", makePort);
describeCreateLimits("data-api", makePort);
describeClaimCheck("data-api", makePort);
