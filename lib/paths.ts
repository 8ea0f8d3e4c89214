import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root: Lambda entries, `migrations/` and the lock file are found from here. */
export const PROJECT_ROOT = fileURLToPath(new URL("..", import.meta.url));

export const projectPath = (...segments: string[]) => join(PROJECT_ROOT, ...segments);
