-- Fair claiming across owners, the per-owner running cap, and retention
-- (docs/design.md "The executor's statement" and "Data model").

-- The fair claim walks the distinct (priority, owner) pairs with pending work (a "loose
-- index scan": one probe per pair) and takes each owner's first due rows in run_at, id
-- order. Both read this index, so a claim costs (owners with work x slots), not backlog depth.
CREATE INDEX tasks_fair_claim_idx ON tasks (priority DESC, owner, run_at, id)
  WHERE status = 'pending';
-- The old claim order's index: nothing reads it any more (the queue's depth and oldest age
-- read the new one, partial on pending too), and every insert and claim paid to keep it.
DROP INDEX tasks_claim_idx;

-- The running cap counts each considered owner's in_progress rows.
CREATE INDEX tasks_owner_running_idx ON tasks (owner) WHERE status = 'in_progress';

-- Retention deletes finished rows oldest first, a bounded batch per statement.
CREATE INDEX tasks_retention_idx ON tasks (completed_at)
  WHERE status IN ('completed', 'failed', 'cancelled');

-- One row per owner the capped claim has seen: every capped claim of an owner locks its row
-- (FOR UPDATE SKIP LOCKED: one claimer per owner at a time) and bumps `claims`. A statement's
-- snapshot is taken before it can lock anything, so a claim that committed after it is
-- invisible to its count of running tasks; the bump makes that visible (the locked row's
-- latest `claims` differs from the snapshot's), and such an owner is skipped until the next
-- sync. An advisory lock alone cannot tell that (see syncTasks.ts).
CREATE TABLE owner_claims (
  owner  text   PRIMARY KEY,
  claims bigint NOT NULL DEFAULT 0
);
INSERT INTO owner_claims (owner) SELECT DISTINCT owner FROM tasks;
