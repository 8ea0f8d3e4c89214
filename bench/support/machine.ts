import { cpus, totalmem } from "node:os";
import pg from "pg";

/** What the figures were measured on: they mean little without it. */
export interface Machine {
  cpuModel: string;
  cores: number;
  memoryGiB: number;
  node: string;
  postgres: string;
  platform: string;
}

export async function describeMachine(serverUrl: string): Promise<Machine> {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ server_version: string }>("SHOW server_version");
    const processors = cpus();
    return {
      cpuModel: processors[0]?.model.trim() ?? "unknown",
      cores: processors.length,
      memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
      node: process.version,
      postgres: rows[0]?.server_version ?? "unknown",
      platform: `${process.platform} ${process.arch}`,
    };
  } finally {
    await client.end();
  }
}
