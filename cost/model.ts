/**
 * Pure arithmetic: the idle month and the cost of 1M tasks, one line per billable item,
 * from the template's inventory, the price table and the environment's settings. Each
 * line's note states the assumption behind its quantity, with the numbers.
 */
import type { Price, PriceKey, PriceTable } from "./prices";
import { HOURS_PER_MONTH, type Inventory, type LambdaFunction } from "./template";

export interface Line {
  readonly item: string;
  readonly usd: number;
  /** The quantity's assumption, in numbers. */
  readonly note: string;
  readonly source: string;
}

/** What cdk.json says that the template does not (or not plainly). */
export interface EnvironmentFacts {
  /** `instance`: EC2 in the VPC; `privateLink`/`external`: a fleet outside this bill. */
  readonly ollamaMode: "instance" | "privateLink" | "external";
  /** Tasks the LLM runs at once: OLLAMA_NUM_PARALLEL = executor.maxConcurrency. */
  readonly llmParallel: number;
}

/** The per-task workload; `npm run cost -- --llm-seconds=4 ...` sets them. */
export interface TaskArgs {
  readonly llmSeconds: number;
  readonly promptTokens: number;
  readonly completionTokens: number;
  /** HTTP API requests per task: create, get, and a poll or two. */
  readonly apiRequestsPerTask: number;
  /** API Lambda duration per request (ms). */
  readonly apiMilliseconds: number;
  /** The executor's Data API statements per task (one sync per loop covers many tasks). */
  readonly executorStatementsPerTask: number;
  /** Real-time events per task (pending, running, finished). */
  readonly publishesPerTask: number;
  /** Clients subscribed to a task's channel: each receives each event (one operation each). */
  readonly subscribersPerTask: number;
  /** Share of tasks whose payload is over the inline threshold (stored in S3). */
  readonly bigTaskShare: number;
}

export const DEFAULT_TASK_ARGS: TaskArgs = {
  llmSeconds: 4,
  promptTokens: 600,
  completionTokens: 250,
  apiRequestsPerTask: 3,
  apiMilliseconds: 50,
  executorStatementsPerTask: 1.05,
  publishesPerTask: 3,
  subscribersPerTask: 1,
  bigTaskShare: 0,
};

/** Idle assumptions; each appears in its line's note. */
export const IDLE = {
  /** A small task table; Aurora bills storage used, backups up to that size are free. */
  auroraStorageGb: 1,
  /** The idle tick reads the due marker and returns: ~1 s billed at its memory. */
  executorTickSeconds: 1,
  /** One DynamoDB read (the due marker) per tick. */
  dueMarkerReadsPerTick: 1,
  /** One log line a tick, Lambda's START/END/REPORT and a quiet VPC's flow log. */
  logsGbPerMonth: 0.05,
  /** Lambda's SQS event source keeps 5 pollers, each long-polling (20 s): 3 receives a minute. */
  sqsPollersPerMapping: 5,
  sqsReceivesPerPollerMinute: 3,
} as const;

/** Per-task assumptions that are not arguments; each appears in its line's note. */
export const PER_TASK = {
  /** The API's statements: the create, and the get. */
  apiDataApiStatements: 2,
  /** The API lowers the due marker before and after its write. */
  dynamoDbWrites: 2,
  /** One wake message per create (≤1: a batch create sends one). */
  wakeMessages: 1,
  /** SQS bills send, receive and delete: 3 requests per message. */
  sqsRequestsPerMessage: 3,
  /** Aurora's capacity while tasks run (Data API statements at a few per second). */
  busyAcu: 0.5,
  /** Storage I/Os per task: the insert, the claim and the settle write pages; reads hit cache. */
  auroraIos: 10,
  /** Log bytes per task: an access-log line and the executor's outcome line. */
  logBytes: 2_048,
  /** UTF-8 bytes per token (English text averages ~4). */
  bytesPerToken: 4,
  /** GET + PUT of a big payload. */
  s3Puts: 1,
  s3Gets: 1,
} as const;

const TASKS = 1_000_000;
const MB_PER_GB = 1024;

export function idleLines(
  inventory: Inventory,
  prices: PriceTable,
  facts: EnvironmentFacts,
): Line[] {
  const charge = charger(prices);
  const lines: Line[] = [];

  for (const cluster of inventory.auroraClusters) {
    const pauses = cluster.minCapacity === 0 && cluster.secondsUntilAutoPause !== undefined;
    lines.push(
      pauses
        ? charge(
            "Aurora Serverless v2 compute",
            "auroraServerlessV2AcuHour",
            0,
            `min 0 ACU, pauses after ${cluster.secondsUntilAutoPause} s without connections: 0 ACU-hours idle (the idle tick reads only the due marker); the first request after a pause waits ~15 s`,
          )
        : charge(
            "Aurora Serverless v2 compute",
            "auroraServerlessV2AcuHour",
            cluster.minCapacity * HOURS_PER_MONTH,
            `keeps min ${cluster.minCapacity} ACU warm (× ${HOURS_PER_MONTH} h): no ~15 s resume on the first request`,
          ),
      charge(
        "Aurora storage",
        "auroraStorageGbMonth",
        IDLE.auroraStorageGb,
        `assume ${IDLE.auroraStorageGb} GB stored; backups up to the cluster's size are free`,
      ),
    );
  }

  const endpointAzs = inventory.interfaceEndpoints.reduce((sum, endpoint) => sum + endpoint.azs, 0);
  if (inventory.interfaceEndpoints.length > 0) {
    const azs = [...new Set(inventory.interfaceEndpoints.map((endpoint) => endpoint.azs))].join(
      "/",
    );
    lines.push(
      charge(
        `Interface VPC endpoints (${inventory.interfaceEndpoints.length})`,
        "interfaceEndpointAzHour",
        endpointAzs * HOURS_PER_MONTH,
        `${inventory.interfaceEndpoints.length} endpoints × ${azs} AZ (${endpointAzs} endpoint-AZs) × ${HOURS_PER_MONTH} h`,
      ),
    );
  }
  if (inventory.gatewayEndpoints > 0) {
    lines.push(
      charge(
        `Gateway VPC endpoints (${inventory.gatewayEndpoints})`,
        "gatewayEndpoint",
        inventory.gatewayEndpoints,
        "free",
      ),
    );
  }
  if (inventory.natGateways > 0) {
    lines.push(
      charge(
        `NAT gateways (${inventory.natGateways})`,
        "natGatewayHour",
        inventory.natGateways * HOURS_PER_MONTH,
        `${inventory.natGateways} × ${HOURS_PER_MONTH} h; idle traffic ~0 GB`,
      ),
    );
  }
  if (inventory.elasticIps > 0) {
    lines.push(
      charge(
        `Public IPv4 addresses (${inventory.elasticIps} Elastic IP)`,
        "publicIpv4Hour",
        inventory.elasticIps * HOURS_PER_MONTH,
        `${inventory.elasticIps} × ${HOURS_PER_MONTH} h (a NAT gateway's address counts)`,
      ),
    );
  }

  for (const instance of inventory.instances) {
    const hourly = instancePrice(prices, instance.instanceType);
    const hours = instance.offWhenIdle ? 0 : HOURS_PER_MONTH;
    lines.push({
      item: `EC2 ${instance.instanceType} (Ollama)`,
      usd: hours * hourly.usd,
      note: instance.offWhenIdle
        ? "stopped when idle by an alarm's ec2:stop action: 0 h"
        : `${HOURS_PER_MONTH} h × $${hourly.usd}/h: runs all month (no ec2:stop alarm in the template)`,
      source: hourly.source,
    });
    const gb = instance.volumes.reduce((sum, volume) => sum + volume.sizeGb, 0);
    const types = [...new Set(instance.volumes.map((volume) => volume.type))].join(", ");
    lines.push(
      charge(
        `EBS ${types || "gp3"} (${gb} GB)`,
        "ebsGp3GbMonth",
        gb,
        `${gb} GB, paid while the instance is stopped too${types && types !== "gp3" ? " (priced as gp3)" : ""}`,
      ),
    );
  }

  const counted: [string, number, PriceKey, string][] = [
    ["KMS keys", inventory.kmsKeys, "kmsKeyMonth", "per key-month; requests ~0 idle"],
    ["Secrets Manager secrets", inventory.secrets, "secretMonth", "per secret-month"],
    [
      "CloudWatch alarms",
      inventory.alarms,
      "alarmStandardMonth",
      "standard resolution, one metric each",
    ],
    [
      "CloudWatch custom metrics",
      inventory.customMetrics.length,
      "customMetricMonth",
      `${inventory.customMetrics.join(", ")}: upper bound, billed by the hours they are published (an idle tick that returns at once publishes none)`,
    ],
    ["CloudWatch dashboards", inventory.dashboards, "dashboardMonth", "per dashboard-month"],
  ];
  for (const [item, count, key, note] of counted) {
    if (count > 0) lines.push(charge(`${item} (${count})`, key, count, note));
  }
  if (inventory.logGroups > 0) {
    lines.push(
      charge(
        `CloudWatch Logs ingestion (${inventory.logGroups} groups)`,
        "logsIngestionGb",
        IDLE.logsGbPerMonth,
        `assume ${IDLE.logsGbPerMonth} GB/month idle: a line per tick, START/END/REPORT, a quiet VPC's flow log`,
      ),
    );
  }

  for (const schedule of inventory.schedules) {
    lines.push(
      charge(
        `EventBridge schedule (${schedule.invocationsPerMonth.toLocaleString("en-US")}/month)`,
        "eventBridgeScheduleRule",
        schedule.invocationsPerMonth,
        "scheduled rules are free",
      ),
    );
    for (const fn of functionsById(inventory, schedule.targetFunctionIds)) {
      const gbSeconds =
        schedule.invocationsPerMonth * IDLE.executorTickSeconds * (fn.memoryMb / MB_PER_GB);
      lines.push(
        charge(
          `Lambda executor ticks: duration (${fn.memoryMb} MB ${fn.architecture})`,
          lambdaGbSecondKey(fn),
          gbSeconds,
          `${schedule.invocationsPerMonth.toLocaleString("en-US")} ticks × ~${IDLE.executorTickSeconds} s (nothing due: returns at once) × ${fn.memoryMb / MB_PER_GB} GB`,
        ),
        charge(
          "Lambda executor ticks: requests",
          "lambdaRequestsPerMillion",
          schedule.invocationsPerMonth / 1e6,
          `${schedule.invocationsPerMonth.toLocaleString("en-US")} invocations`,
        ),
      );
    }
    if (inventory.dynamoDbTables > 0) {
      const reads = schedule.invocationsPerMonth * IDLE.dueMarkerReadsPerTick;
      lines.push(
        charge(
          "DynamoDB due-marker reads",
          "dynamoDbReadPerMillion",
          reads / 1e6,
          `${IDLE.dueMarkerReadsPerTick} read per tick × ${schedule.invocationsPerMonth.toLocaleString("en-US")} (on-demand table: nothing else idle)`,
        ),
      );
    }
  }

  if (inventory.sqsPollers > 0) {
    const receives =
      inventory.sqsPollers *
      IDLE.sqsPollersPerMapping *
      IDLE.sqsReceivesPerPollerMinute *
      HOURS_PER_MONTH *
      60;
    lines.push(
      charge(
        `SQS empty receives (${inventory.sqsPollers} Lambda event sources)`,
        "sqsRequestsPerMillion",
        receives / 1e6,
        `${inventory.sqsPollers} × ${IDLE.sqsPollersPerMapping} pollers × ${IDLE.sqsReceivesPerPollerMinute} long polls/min × ${HOURS_PER_MONTH * 60} min (assumed pollers; SQS's free 1M requests would cover it)`,
      ),
    );
  }
  if (inventory.s3Buckets > 0) {
    lines.push(
      charge(
        `S3 buckets (${inventory.s3Buckets})`,
        "s3StandardGbMonth",
        0,
        "assume ~0 GB idle: only payloads over the inline threshold, priced per task",
      ),
    );
  }
  for (const project of inventory.codeBuildProjects) {
    lines.push(
      charge(
        `CodeBuild ${project.computeType}`,
        codeBuildKey(project.environmentType),
        0,
        "per build-minute: no builds while idle",
      ),
    );
  }
  if (facts.ollamaMode !== "instance") {
    lines.push({
      item: `LLM (${facts.ollamaMode})`,
      usd: 0,
      note: "external fleet, not priced",
      source: "-",
    });
  }
  return lines;
}

export function perMillionTaskLines(
  inventory: Inventory,
  prices: PriceTable,
  facts: EnvironmentFacts,
  args: TaskArgs,
): Line[] {
  const charge = charger(prices);
  const lines: Line[] = [];
  // The LLM server runs llmParallel tasks at once; everything that waits on it (the
  // instance, Aurora's busy capacity) is busy this many hours for 1M tasks.
  const busyHours = (TASKS * args.llmSeconds) / facts.llmParallel / 3600;

  const apiRequests = TASKS * args.apiRequestsPerTask;
  if (inventory.httpApis > 0) {
    lines.push(
      charge(
        "API Gateway HTTP API requests",
        "httpApiPerMillion",
        apiRequests / 1e6,
        `${args.apiRequestsPerTask} requests per task (create, get, a poll)`,
      ),
    );
  }
  for (const fn of functionsById(inventory, inventory.apiFunctionIds)) {
    lines.push(
      charge(
        `Lambda api: duration (${fn.memoryMb} MB ${fn.architecture})`,
        lambdaGbSecondKey(fn),
        apiRequests * (args.apiMilliseconds / 1000) * (fn.memoryMb / MB_PER_GB),
        `${args.apiRequestsPerTask} invocations per task × ${args.apiMilliseconds} ms × ${fn.memoryMb / MB_PER_GB} GB`,
      ),
      charge(
        "Lambda api: requests",
        "lambdaRequestsPerMillion",
        apiRequests / 1e6,
        `${args.apiRequestsPerTask} invocations per task`,
      ),
    );
  }

  for (const cluster of inventory.auroraClusters) {
    const statements = PER_TASK.apiDataApiStatements + args.executorStatementsPerTask;
    const extraAcu = Math.max(0, PER_TASK.busyAcu - cluster.minCapacity);
    lines.push(
      charge(
        "Aurora Data API requests",
        "dataApiPerMillion",
        (TASKS * statements) / 1e6,
        `${PER_TASK.apiDataApiStatements} (API) + ${args.executorStatementsPerTask} (executor) statements per task`,
      ),
      charge(
        "Aurora I/O",
        "auroraIoPerMillion",
        (TASKS * PER_TASK.auroraIos) / 1e6,
        `assume ${PER_TASK.auroraIos} storage I/Os per task (insert, claim, settle)`,
      ),
      charge(
        "Aurora compute while busy",
        "auroraServerlessV2AcuHour",
        busyHours * extraAcu,
        extraAcu > 0
          ? `${round(busyHours)} busy h (${args.llmSeconds} s × 1M / ${facts.llmParallel} parallel) × ${extraAcu} ACU above min ${cluster.minCapacity}`
          : `${round(busyHours)} busy h at ${PER_TASK.busyAcu} ACU: already paid by the idle line's min ${cluster.minCapacity} ACU`,
      ),
    );
  }

  for (const schedule of inventory.schedules) {
    for (const fn of functionsById(inventory, schedule.targetFunctionIds)) {
      lines.push(
        charge(
          `Lambda executor: duration (${fn.memoryMb} MB ${fn.architecture})`,
          lambdaGbSecondKey(fn),
          TASKS * args.llmSeconds * (fn.memoryMb / MB_PER_GB),
          `${args.llmSeconds} s per task waiting on the LLM × ${fn.memoryMb / MB_PER_GB} GB (upper bound: one invocation runs up to ${facts.llmParallel} tasks at once)`,
        ),
        charge(
          "Lambda executor: requests",
          "lambdaRequestsPerMillion",
          (TASKS * PER_TASK.wakeMessages) / 1e6,
          `≤${PER_TASK.wakeMessages} wake invocation per create`,
        ),
      );
    }
  }

  if (inventory.dynamoDbTables > 0) {
    lines.push(
      charge(
        "DynamoDB due-marker writes",
        "dynamoDbWritePerMillion",
        (TASKS * PER_TASK.dynamoDbWrites) / 1e6,
        `${PER_TASK.dynamoDbWrites} writes per create (before and after its commit)`,
      ),
    );
  }
  if (inventory.sqsQueues > 0) {
    // The API publishes the first event itself; the executor's go through the relay queue.
    const relayMessages = inventory.appSyncApis > 0 ? Math.max(0, args.publishesPerTask - 1) : 0;
    const messages = PER_TASK.wakeMessages + relayMessages;
    lines.push(
      charge(
        "SQS requests",
        "sqsRequestsPerMillion",
        (TASKS * messages * PER_TASK.sqsRequestsPerMessage) / 1e6,
        `${PER_TASK.wakeMessages} wake + ${relayMessages} relay messages per task × ${PER_TASK.sqsRequestsPerMessage} requests (send, receive, delete; FIFO relay priced as standard)`,
      ),
    );
  }
  if (inventory.appSyncApis > 0) {
    const operations = args.publishesPerTask * (1 + args.subscribersPerTask);
    lines.push(
      charge(
        "AppSync Events operations",
        "appSyncEventsOperationsPerMillion",
        (TASKS * operations) / 1e6,
        `${args.publishesPerTask} publishes × (1 + ${args.subscribersPerTask} subscriber delivery) per task; connection-minutes depend on clients, not priced`,
      ),
    );
  }

  if (facts.ollamaMode === "instance") {
    for (const instance of inventory.instances) {
      const hourly = instancePrice(prices, instance.instanceType);
      lines.push({
        item: `EC2 ${instance.instanceType} LLM hours`,
        usd: busyHours * hourly.usd,
        note: `${args.llmSeconds} s × 1M / ${facts.llmParallel} parallel / 3600 = ${round(busyHours)} h × $${hourly.usd}/h${instance.offWhenIdle ? "" : " (inside the idle line's 730 h while it never stops)"}`,
        source: hourly.source,
      });
    }
  } else {
    lines.push({
      item: `LLM (${facts.ollamaMode})`,
      usd: 0,
      note: `external fleet, not priced: ${args.promptTokens} prompt + ${args.completionTokens} completion tokens per task at its rate`,
      source: "-",
    });
  }

  if (inventory.interfaceEndpoints.length > 0) {
    const tokenBytes = (args.promptTokens + args.completionTokens) * PER_TASK.bytesPerToken;
    // Through the rds-data endpoint: the prompt in and out of the row, the result in and out.
    // In privateLink mode the prompt and the completion also cross the Ollama endpoint.
    const crossings = facts.ollamaMode === "privateLink" ? 3 : 2;
    lines.push(
      charge(
        "Interface endpoint data processed",
        "interfaceEndpointGb",
        (TASKS * tokenBytes * crossings) / 1e9,
        `(${args.promptTokens} + ${args.completionTokens}) tokens × ${PER_TASK.bytesPerToken} B × ${crossings} crossings per task`,
      ),
    );
  }
  if (inventory.logGroups > 0) {
    lines.push(
      charge(
        "CloudWatch Logs ingestion",
        "logsIngestionGb",
        (TASKS * PER_TASK.logBytes) / 1e9,
        `assume ${PER_TASK.logBytes / 1024} KB of log lines per task`,
      ),
    );
  }
  if (inventory.s3Buckets > 0) {
    const bigTasks = TASKS * args.bigTaskShare;
    lines.push(
      charge(
        "S3 PUTs (big payloads)",
        "s3PutPerThousand",
        (bigTasks * PER_TASK.s3Puts) / 1000,
        `${args.bigTaskShare * 100}% of tasks over the inline threshold × ${PER_TASK.s3Puts} PUT`,
      ),
      charge(
        "S3 GETs (big payloads)",
        "s3GetPerThousand",
        (bigTasks * PER_TASK.s3Gets) / 1000,
        `${args.bigTaskShare * 100}% of tasks × ${PER_TASK.s3Gets} GET`,
      ),
    );
  }
  return lines;
}

export const total = (lines: readonly Line[]): number =>
  lines.reduce((sum, line) => sum + line.usd, 0);

/** Price lookup; an instance type missing from the table is an error naming the file. */
export function instancePrice(prices: PriceTable, instanceType: string): Price {
  const price = prices.ec2OnDemandHour[instanceType];
  if (!price) {
    throw new Error(
      `no on-demand price for EC2 ${instanceType} in cost/prices.ts (ec2OnDemandHour): add it with its source`,
    );
  }
  return price;
}

function charger(prices: PriceTable) {
  return (item: string, key: PriceKey, quantity: number, note: string): Line => {
    const price = prices.items[key];
    return { item, usd: quantity * price.usd, note, source: price.source };
  };
}

function functionsById(inventory: Inventory, ids: readonly string[]): LambdaFunction[] {
  return inventory.functions.filter((fn) => ids.includes(fn.id));
}

function lambdaGbSecondKey(fn: LambdaFunction): PriceKey {
  return fn.architecture === "arm64" ? "lambdaArmGbSecond" : "lambdaX86GbSecond";
}

function codeBuildKey(environmentType: string): PriceKey {
  return environmentType.startsWith("ARM")
    ? "codeBuildArmSmallMinute"
    : "codeBuildLinuxSmallMinute";
}

const round = (value: number) => Math.round(value * 100) / 100;
