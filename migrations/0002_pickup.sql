-- Pickup latency, defined once: from when a task became due for its first attempt to when
-- that attempt started. Both ends are recorded by the claim that makes the first attempt
-- (attempts 0 -> 1, again after a caller's retry), because a retry's backoff later moves
-- run_at past started_at, and measuring started_at - run_at then went negative.
-- Read by /api/metrics (taskStats) and the executor's PickupLatency metric.

ALTER TABLE tasks
  ADD COLUMN first_due_at     timestamptz,
  ADD COLUMN first_started_at timestamptz;

-- Rows claimed before this migration: their latest attempt is the best record there is.
UPDATE tasks SET first_due_at = least(greatest(created_at, run_at), started_at),
                 first_started_at = started_at
WHERE started_at IS NOT NULL AND attempts = 1;
