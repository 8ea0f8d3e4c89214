/**
 * The two lease expressions every executor statement shares, written once.
 *
 * LEASE_EXPIRES_AT: a lease runs `:lease_seconds` from the statement's time.
 * HELD_BY_WORKER: the fence on every executor write (`t` is the tasks row). A worker whose
 * lease was recovered (status no longer in_progress) or taken over (another lease_owner)
 * matches nothing, so it cannot overwrite the task's newer fate. A lease that expired but
 * was not recovered yet still counts as held: nobody else has the task.
 */
export const LEASE_EXPIRES_AT = "now() + cast(:lease_seconds AS integer) * interval '1 second'";

export const HELD_BY_WORKER =
  "t.lease_owner = cast(:worker_id AS text) AND t.status = 'in_progress'";
