import { createPgSqlPort } from "../../../functions/core/sql/pgAdapter";
import { describeTaskStore } from "../../support/storeSuite";

// The store suite through node-postgres (the local runtime's and the tests' adapter).
describeTaskStore("node-postgres", async (databaseUrl) => {
  const sql = createPgSqlPort({ connectionString: databaseUrl, max: 10 });
  return { sql, close: () => sql.close() };
});
