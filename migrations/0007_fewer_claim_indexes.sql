-- Fewer index entries per claim (docs/design.md "Data model"). A claim (pending to
-- in_progress) is never a HOT update: status is in every partial index's predicate, so the
-- new row version gets an entry in every index whose predicate it matches. That was five
-- (the primary key, lease recovery, listing, running per owner, unfinished per owner); it
-- is three now. Each of the two owner indexes held one key per owner, so an owner with
-- thousands of tasks made every claim rewrite a long posting list. Measured on a claim of
-- 1,000 of 10,000 pending rows with 3,000 running (one owner, EXPLAIN ANALYZE, 3 runs
-- each): the claim's UPDATE took 18 to 20 ms with them and 11 to 13.5 ms without.
--
-- What read the two owner indexes reads the two that stay:
-- - pending rows per owner: the fair claim index, now owner first. The claim's walk over
--   the (owner, priority) pairs with pending rows costs the same probes in either order
--   (functions/core/tasks/sql/fairClaim.ts);
-- - running rows per owner: the lease recovery index, which now carries the owner, in one
--   pass over the running rows (there are at most the executors' slots of them). The
--   claim's running counts were already such a pass.

CREATE INDEX tasks_fair_claim_by_owner_idx ON tasks (owner, priority DESC, run_at, id)
  WHERE status = 'pending';
DROP INDEX tasks_fair_claim_idx;
ALTER INDEX tasks_fair_claim_by_owner_idx RENAME TO tasks_fair_claim_idx;

CREATE INDEX tasks_lease_recovery_with_owner_idx ON tasks (lease_expires_at) INCLUDE (owner)
  WHERE status = 'in_progress';
DROP INDEX tasks_lease_recovery_idx;
ALTER INDEX tasks_lease_recovery_with_owner_idx RENAME TO tasks_lease_recovery_idx;

DROP INDEX tasks_owner_running_idx;
DROP INDEX tasks_owner_unfinished_idx;

-- An owner's unfinished tasks, counted once for the create's cap and its refusal message:
-- one count per partial index, as no single index holds both statuses any more.
CREATE FUNCTION owner_unfinished(task_owner text) RETURNS bigint
LANGUAGE sql STABLE AS $$
  SELECT (SELECT count(*) FROM tasks WHERE status = 'pending' AND owner = task_owner)
       + (SELECT count(*) FROM tasks WHERE status = 'in_progress' AND owner = task_owner)
$$;

-- As in 0005: the owner's advisory lock first, then the count, from a fresh snapshot (each
-- statement of a VOLATILE function takes one) that sees every create committed before the
-- lock was granted.
CREATE OR REPLACE FUNCTION owner_unfinished_locked(task_owner text) RETURNS bigint
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
  PERFORM pg_advisory_xact_lock(hashtext('task-pipeline.owner'), hashtext(task_owner));
  RETURN owner_unfinished(task_owner);
END;
$$;
