import { createPgSqlPort } from "../../../functions/core/sql/pgAdapter";
import { describeClaimCheck } from "../../support/claimCheckSuite";
import { describeCreateLimits } from "../../support/createLimitsSuite";
import { describeTaskStore, type MakePort } from "../../support/storeSuite";

// The store suite through node-postgres (the local runtime's and the tests' adapter).
const makePort: MakePort = async (databaseUrl) => {
  const sql = createPgSqlPort({ connectionString: databaseUrl, max: 10 });
  return { sql, close: () => sql.close() };
};

describeTaskStore("node-postgres", makePort);
describeCreateLimits("node-postgres", makePort);
describeClaimCheck("node-postgres", makePort);
