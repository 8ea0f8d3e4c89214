import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { buildOpenApiDocument } from "../functions/api/openapi";
import { createRoutes } from "../functions/api/routes";
import { createTaskTypeRegistry } from "../functions/core/taskTypes/registry";

/**
 * `npm run openapi`: writes the HTTP API's OpenAPI 3.1 document to `openapi.json` at the
 * repository root (or the path given), the same document GET /api/openapi.json serves, so
 * a frontend can generate a typed client without a running API. Deterministic output:
 * commit it, and a diff shows exactly how the contract changed.
 */
const root = join(import.meta.dirname, "..");
const target = process.argv[2] ?? join(root, "openapi.json");
const taskTypes = createTaskTypeRegistry();
const document = buildOpenApiDocument({ routes: createRoutes(taskTypes), taskTypes });
await writeFile(target, `${JSON.stringify(document, null, 2)}\n`);

// Formatted the way the repository formats JSON, so `npm run lint` passes on the file.
const biome = join(root, "node_modules", ".bin", "biome");
if (existsSync(biome)) {
  const formatted = spawnSync(biome, ["format", "--write", target], { encoding: "utf8" });
  if (formatted.status !== 0) {
    console.error(formatted.stderr || formatted.stdout);
    process.exit(1);
  }
}
console.log(`wrote ${target}`);
