-- The executor's idle check (functions/core/tasks/sql/nextDueAt.ts) asks when the next
-- pending task falls due: an index on run_at alone answers that with one index entry,
-- where the claim index (priority first) would be read in full. Lease expiries are
-- already indexed (tasks_lease_idx). docs/design.md "Scale to zero".
CREATE INDEX tasks_due_idx ON tasks (run_at) WHERE status = 'pending';
