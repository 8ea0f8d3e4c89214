-- A running task's progress as its executor last reported it, e.g. a summarize of a long
-- text: {"step": "map", "done": 3, "total": 12}. Written by sync's heartbeat
-- (functions/core/tasks/sql/syncTasks.ts), cleared by each claim, read by the API.
-- Small and bounded (TaskProgressSchema), so it counts in the row's fixed bytes
-- (functions/core/tasks/byteBudgets.ts). docs/design.md "Big inputs and results".
ALTER TABLE tasks ADD COLUMN progress jsonb;
