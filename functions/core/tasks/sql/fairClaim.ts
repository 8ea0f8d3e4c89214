/**
 * The claim half of the executor's one statement (./syncTasks.ts puts it after settle,
 * heartbeat and recovery, and before the `claimed` UPDATE): which due pending rows this
 * sync takes. Kept in its own file because it is most of the statement's reasoning; it is
 * not a statement of its own (it reads `:claim_limit`, `:claim_bytes`, `:response_bytes`,
 * `:max_running` and the `settled` and `recovered` CTEs before it, and ends in the `fitting`
 * CTE that `claimed` updates).
 *
 * Fair across owners: within a priority level, free slots go round-robin across the owners
 * with due work (an owner with 5,000 pending tasks and an owner with 1 get alternate
 * slots); a higher priority still goes first. The order is
 * (priority DESC, turn, run_at, id), where a row's turn is its owner's tasks already in
 * progress plus its position in the owner's queue at that priority: the owners' shares of
 * the running slots even out across claims, not only within one (an executor mostly claims
 * one slot at a time as attempts finish, and the flooding owner's next task is older than
 * everyone else's first; ranking by position alone would give it every single-slot claim).
 *
 * How it scales: `lane` walks the distinct (owner, priority) pairs with pending rows, two
 * index probes per pair (tasks_fair_claim_idx, owner first, a "loose index scan");
 * `candidate` reads at most claim_limit rows per pair from the same index. So a claim costs
 * (pairs x claim_limit) index entries whatever the backlog's depth: 5,000 tasks of one
 * owner cost the claim what 8 do. A sync that claims nothing (claim_limit 0) walks nothing.
 * (An owner whose pending rows are all due later still costs its lane's probes.)
 *
 * Where the lock goes: picking reads without locks, and only then does `due` lock, per
 * picked owner, as many rows as it was picked for (FOR UPDATE SKIP LOCKED in a LATERAL
 * over that owner's queue). A row another claimer locked is skipped and the owner's next
 * due row is taken instead, so a concurrent claimer never stalls the claim, and only the
 * rows claimed are locked (locking inside the walk would lock claim_limit rows of every
 * owner, 8,000 row locks for 1,000 owners and 8 slots, each a heap write).
 *
 * The running cap (`:max_running`, NULL for no limit): an owner's candidates are cut to
 * cap - its in_progress rows (the same running counts the turns use: one pass over the
 * in_progress rows through tasks_lease_recovery_idx, which carries the owner; at most the
 * executors' slots). Two concurrent
 * claimers could both count from snapshots taken before either claimed, and a
 * transaction-level advisory lock taken inside the statement would not help: the snapshot
 * is taken when the statement starts, before any lock, so a claim that committed between
 * the two is invisible to the count even though its lock is gone. Instead every capped
 * claim locks the owner's row in owner_claims (migrations/0003_fair_claim.sql) with
 * FOR UPDATE SKIP LOCKED, which re-reads the row's latest version, and bumps its `claims`:
 * an owner is claimable only when that latest `claims` equals the snapshot's (no claim
 * committed since the count was taken) and no other claimer holds the row now. An owner
 * seen for the first time gets its row inserted here (ON CONFLICT DO NOTHING): only the
 * claimer whose insert went through claims for it in that statement.
 */

import { rowBytesSql, settledRowBytesSql } from "../taskRow";

const CLAIM_LIMIT = "cast(:claim_limit AS integer)";
/**
 * Printed sizes of a whole row (`d`), a settled one and a recovered one (`r`). A claimed
 * row is measured while still pending, without a lease_owner (the table's CHECK), and
 * comes back with this worker's id in it: up to 765 bytes a row more than it measured.
 */
const FULL_ROW_BYTES = `${rowBytesSql("d")} + octet_length(cast(:worker_id AS text))`;
const SETTLED_ROW_BYTES = settledRowBytesSql("r");
const SLIM_ROW_BYTES = rowBytesSql("r", (c) => !c.bulky);
const MAX_RUNNING = "cast(:max_running AS integer)";

/** The fair claim order over rows carrying priority, turn, run_at and id. */
const FAIR_ORDER = "priority DESC, turn, run_at, id";

export const FAIR_CLAIM_CTES = `
-- Lanes: the distinct (owner, priority) pairs with pending rows, in the index's order. Each
-- step probes the index twice at most: this owner's next lower priority, else the next
-- owner's highest (UNION ALL ... LIMIT 1 runs the second probe only when the first finds
-- nothing). The order lanes come in does not matter: pick orders the candidates. Nothing
-- is walked when the sync claims nothing.
lane AS (
  (SELECT owner, priority FROM tasks
   WHERE status = 'pending' AND ${CLAIM_LIMIT} > 0
   ORDER BY owner, priority DESC
   LIMIT 1)
  UNION ALL
  SELECT next.owner, next.priority
  FROM lane AS l
  CROSS JOIN LATERAL (
    (SELECT owner, priority FROM tasks
     WHERE status = 'pending' AND owner = l.owner AND priority < l.priority
     ORDER BY owner, priority DESC
     LIMIT 1)
    UNION ALL
    (SELECT owner, priority FROM tasks
     WHERE status = 'pending' AND owner > l.owner
     ORDER BY owner, priority DESC
     LIMIT 1)
    LIMIT 1
  ) AS next
),
-- Candidates: each lane's first claim_limit due rows (no more can be claimed from it), with
-- the row's position in its owner's queue at that priority (level_position, a part of its
-- turn) and across the owner's priorities (owner_position, what the cap cuts).
candidate AS (
  SELECT c.id, l.priority, l.owner, c.run_at, c.level_position,
         row_number() OVER (PARTITION BY l.owner ORDER BY l.priority DESC, c.run_at, c.id) AS owner_position
  FROM lane AS l
  CROSS JOIN LATERAL (
    -- Numbered in the index's own order: no sort.
    SELECT id, run_at, row_number() OVER (ORDER BY run_at, id) AS level_position
    FROM tasks
    WHERE status = 'pending' AND priority = l.priority AND owner = l.owner AND run_at <= now()
    ORDER BY run_at, id
    LIMIT ${CLAIM_LIMIT}
  ) AS c
),
-- Each candidate owner's running tasks as of the snapshot, from one pass over the in_progress
-- rows (tasks_lease_recovery_idx): there are at most the executors' slots of them, and one
-- pass cannot turn into 1,000 per-owner probes through another index (as it did in
-- bench/explainClaim.ts when the planner's statistics predated the running tasks).
busy AS MATERIALIZED (
  SELECT o.owner, coalesce(r.running, 0) AS running
  FROM (SELECT DISTINCT owner FROM candidate) AS o
  LEFT JOIN (SELECT owner, count(*) AS running
             FROM tasks
             WHERE status = 'in_progress'
             GROUP BY owner) AS r ON r.owner = o.owner
),
-- The candidates the cap leaves (all of them without a cap), with their turn.
turned AS (
  SELECT c.*, b.running, b.running + c.level_position AS turn
  FROM candidate AS c
  JOIN busy AS b ON b.owner = c.owner
  WHERE ${MAX_RUNNING} IS NULL OR c.owner_position <= ${MAX_RUNNING} - b.running
),
-- Capped claims only: each owner's owner_claims row as of the snapshot (NULL: none yet).
owner_seen AS (
  SELECT t.owner, max(t.priority) AS top_priority, min(t.turn) AS best_turn,
         min(t.run_at) AS oldest, min(m.claims) AS claims
  FROM turned AS t
  LEFT JOIN owner_claims AS m ON m.owner = t.owner
  WHERE ${MAX_RUNNING} IS NOT NULL
  GROUP BY t.owner
),
-- Owners this claim may take from: locked best first (their highest priority, then earliest
-- turn, then oldest row: close to the fair order, and only an order), skipping owners another claimer
-- holds; the re-check on the row's latest version drops an owner claimed since the snapshot.
-- At most claim_limit owners are locked (no claim can use more).
owner_held AS (
  SELECT m.owner
  FROM owner_claims AS m
  JOIN owner_seen AS s ON s.owner = m.owner
  WHERE m.claims = s.claims
  ORDER BY s.top_priority DESC, s.best_turn, s.oldest
  LIMIT ${CLAIM_LIMIT}
  FOR UPDATE OF m SKIP LOCKED
),
owner_new AS (
  INSERT INTO owner_claims (owner)
  SELECT owner FROM owner_seen WHERE claims IS NULL ORDER BY owner
  ON CONFLICT (owner) DO NOTHING
  RETURNING owner
),
claimable AS (
  SELECT owner FROM owner_held
  UNION ALL
  SELECT owner FROM owner_new
  UNION ALL
  SELECT DISTINCT owner FROM candidate WHERE ${MAX_RUNNING} IS NULL
),
-- The picks: the best claim_limit candidates of claimable owners, as a count per lane.
pick AS (
  SELECT priority, owner, running, count(*) AS quota
  FROM (SELECT t.priority, t.owner, t.running
        FROM turned AS t
        JOIN claimable AS o ON o.owner = t.owner
        ORDER BY ${FAIR_ORDER}
        LIMIT ${CLAIM_LIMIT}) AS best
  GROUP BY priority, owner, running
),
-- Locked here, per lane, as many rows as it was picked for: a row another claimer locked is
-- skipped and the lane's next due row taken, so a concurrent claim never stalls this one.
-- Sizes as PostgreSQL prints them (../byteBudgets.ts): the payload (input, last error) and
-- the whole row the claim sends back.
due AS (
  SELECT r.id, p.priority, p.owner, r.run_at, r.payload_bytes, r.row_bytes,
         p.running + row_number() OVER (PARTITION BY p.priority, p.owner ORDER BY r.run_at, r.id) AS turn
  FROM pick AS p
  CROSS JOIN LATERAL (
    SELECT id, run_at,
           octet_length(input::text) + coalesce(octet_length(result::text), 0)
             + coalesce(octet_length(error), 0) AS payload_bytes,
           ${FULL_ROW_BYTES} AS row_bytes
    FROM tasks AS d
    WHERE status = 'pending' AND priority = p.priority AND owner = p.owner AND run_at <= now()
    ORDER BY run_at, id
    LIMIT p.quota
    FOR UPDATE SKIP LOCKED
  ) AS r
),
-- The settled and recovered rows this statement already sends back, as printed.
answered AS (
  SELECT (SELECT coalesce(sum(${SETTLED_ROW_BYTES}), 0) FROM settled AS r)
       + (SELECT coalesce(sum(${SLIM_ROW_BYTES}), 0) FROM recovered AS r) AS bytes
),
-- The byte budget: the prefix of the fair order that the Data API can send back (it refuses
-- a response over 1 MiB): the claimed rows, whole, plus the settled and recovered rows,
-- within response_bytes; and within that, the claimed payloads within claim_bytes, except
-- for the first row. Rows left out stay pending for the next claim.
fitting AS (
  SELECT d.id, d.owner, d.claim_position
  FROM (SELECT id, owner,
               row_number() OVER running AS claim_position,
               sum(payload_bytes) OVER running AS payload,
               sum(row_bytes) OVER running AS bytes
        FROM due
        WINDOW running AS (ORDER BY ${FAIR_ORDER} ROWS UNBOUNDED PRECEDING)) AS d,
       answered AS a
  WHERE (d.claim_position = 1 OR d.payload <= cast(:claim_bytes AS bigint))
    AND a.bytes + d.bytes <= cast(:response_bytes AS bigint)
),`;

/**
 * After `claimed`: a capped claim bumps the owner_claims row of each owner it claimed for
 * (rows this statement inserted are not visible to it, and need no bump: the insert is the
 * change a concurrent claimer sees).
 */
export const OWNER_CLAIMS_BUMP_CTE = `
owner_claimed AS (
  UPDATE owner_claims AS m SET claims = m.claims + 1
  FROM (SELECT DISTINCT f.owner FROM fitting AS f JOIN claimed AS c ON c.id = f.id) AS o
  WHERE m.owner = o.owner AND ${MAX_RUNNING} IS NOT NULL
  RETURNING m.owner
)`;
