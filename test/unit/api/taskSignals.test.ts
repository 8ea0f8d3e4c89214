import { describe, expect, it } from "vitest";
import type { ApiDeps } from "../../../functions/api/deps";
import type { ApiContext } from "../../../functions/api/http";
import { afterTasksDue } from "../../../functions/api/taskSignals";
import type { TaskEvents } from "../../../functions/core/realtime/port";
import { silentLogger } from "../../../functions/core/telemetry/ports";
import { createMemoryDueMarker } from "../../../functions/core/wake/memoryDueMarker";
import { aTask } from "../../support/taskFixture";

/** What the API signals after a write that made tasks due: once per request, not per task. */

describe("afterTasksDue", () => {
  it("publishes a batch's tasks in one flush, lowers the marker to the earliest, wakes once", async () => {
    // Prepare: a batch of 3, the second due first.
    const now = Date.now();
    const tasks = [1_000, -500, 2_000].map((offset, i) =>
      aTask({ id: `00000000-0000-4000-8000-00000000000${i}`, runAt: new Date(now + offset) }),
    );
    const published: number[] = [];
    let flushes = 0;
    let wakes = 0;
    const events: TaskEvents = {
      statusChanged: (changed) => published.push(changed.length),
      output: () => {},
      progress: () => {},
      flush: async () => {
        flushes++;
      },
    };
    const marker = createMemoryDueMarker();
    await marker.record(null, 0);
    const deps = {
      events,
      wake: { marker, waker: { wake: async () => void wakes++ } },
      now: () => now,
    } as unknown as ApiDeps;

    // Act
    await afterTasksDue(deps, { logger: silentLogger } as ApiContext, tasks);

    // Assess
    expect(published).toEqual([3]);
    expect(flushes).toBe(1);
    expect(wakes).toBe(1);
    expect((await marker.read()).dueAtMs).toBe(now - 500);
  });
});
