-- The per-owner cap on unfinished tasks (MAX_PENDING_PER_OWNER; docs/design.md "Many
-- owners"). A create counts the owner's pending and in_progress tasks and inserts only
-- under the cap, in one statement. Two concurrent creates would each count from a snapshot
-- taken before the other committed, and both pass; so the count is taken by this function,
-- which first takes a transaction-level advisory lock on the owner (held until the
-- create's commit, so creates of one owner queue here while others go on) and, being
-- VOLATILE, counts from a fresh snapshot that sees every create committed before it got
-- the lock. The index keeps the count to the owner's unfinished rows.
CREATE INDEX tasks_owner_unfinished_idx ON tasks (owner)
  WHERE status IN ('pending', 'in_progress');

CREATE FUNCTION owner_unfinished_locked(task_owner text) RETURNS bigint
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
  PERFORM pg_advisory_xact_lock(hashtext('task-pipeline.owner'), hashtext(task_owner));
  RETURN (SELECT count(*) FROM tasks
          WHERE owner = task_owner AND status IN ('pending', 'in_progress'));
END;
$$;
