/**
 * The due marker in this process's memory: the local runtime's (its API and executor share
 * one process) and the tests'. Same rules as the DynamoDB one (./dynamoDueMarker.ts).
 */
import type { DueMarker, MarkerState } from "./ports";

export function createMemoryDueMarker(): DueMarker {
  let state: MarkerState = { known: false, dueAtMs: null, version: 0 };
  return {
    read: async () => state,
    async lower(atMs) {
      if (!state.known) return; // unknown already means "read the database"
      const dueAtMs = state.dueAtMs === null ? atMs : Math.min(state.dueAtMs, atMs);
      state = { known: true, dueAtMs, version: state.version + 1 };
    },
    async record(dueAtMs, version) {
      if (state.version !== version) return false;
      state = { known: true, dueAtMs, version: version + 1 };
      return true;
    },
  };
}
