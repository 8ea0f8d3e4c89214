/**
 * `npm run bench -- [--quick] [--only=queue,pgboss,llm,pickup,idle,api,realtime,zero,fairness,retention,payloads] [--save]`.
 * --quick: small counts and short windows, for working on the harness (figures not judged).
 * --save: also write bench/results/latest.json, the copy the README quotes (full runs only).
 */
export const BENCHMARK_NAMES = [
  "queue",
  "pgboss",
  "llm",
  "pickup",
  "idle",
  "api",
  "realtime",
  "zero",
  "fairness",
  "retention",
  "payloads",
] as const;
export type BenchmarkName = (typeof BENCHMARK_NAMES)[number];

export interface BenchArgs {
  quick: boolean;
  save: boolean;
  only: ReadonlySet<BenchmarkName>;
}

export function parseBenchArgs(argv: readonly string[]): BenchArgs {
  let quick = false;
  let save = false;
  let only = new Set<BenchmarkName>(BENCHMARK_NAMES);
  for (const arg of argv) {
    if (arg === "--quick") quick = true;
    else if (arg === "--save") save = true;
    else if (arg.startsWith("--only=")) {
      const names = arg.slice("--only=".length).split(",").filter(Boolean);
      const unknown = names.filter(
        (name) => !(BENCHMARK_NAMES as readonly string[]).includes(name),
      );
      if (unknown.length > 0 || names.length === 0) {
        throw new Error(
          `--only takes a comma-separated list of ${BENCHMARK_NAMES.join(", ")} (got "${arg.slice(7)}")`,
        );
      }
      only = new Set(names as BenchmarkName[]);
    } else {
      throw new Error(
        `unknown argument "${arg}": use --quick, --save or --only=${BENCHMARK_NAMES.join(",")}`,
      );
    }
  }
  if (save && (quick || only.size < BENCHMARK_NAMES.length)) {
    // The saved copy is what the README quotes: only a full run of everything may replace it.
    throw new Error("--save needs a full run: drop --quick and --only");
  }
  return { quick, save, only };
}
