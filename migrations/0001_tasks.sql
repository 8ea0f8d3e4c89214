-- The tasks table: one row per task. See DESIGN.md "Data model".
-- gen_random_uuid() is core PostgreSQL since 13 (Aurora PostgreSQL 17 has it).

CREATE TABLE tasks (
  id               uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  owner            text        NOT NULL,
  type             text        NOT NULL,
  title            text,
  input            jsonb       NOT NULL,
  status           text        NOT NULL DEFAULT 'pending'
                               CHECK (status IN ('pending', 'in_progress', 'completed', 'failed', 'cancelled')),
  priority         integer     NOT NULL DEFAULT 0,
  run_at           timestamptz NOT NULL DEFAULT now(),
  attempts         integer     NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  max_attempts     integer     NOT NULL DEFAULT 3 CHECK (max_attempts >= 1),
  lease_owner      text,
  lease_expires_at timestamptz,
  cancel_requested boolean     NOT NULL DEFAULT false,
  model            text        NOT NULL,
  result           jsonb,
  error            text,
  idempotency_key  text,
  -- A hash of the create request, so a reused Idempotency-Key with another body is a 409.
  request_hash     text,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  started_at       timestamptz,
  completed_at     timestamptz,
  -- An in_progress row always has a lease; no other row has one.
  CONSTRAINT tasks_lease_matches_status
    CHECK ((status = 'in_progress') = (lease_owner IS NOT NULL AND lease_expires_at IS NOT NULL))
);

-- Idempotent create: one task per (owner, key). NULL keys never collide.
CREATE UNIQUE INDEX tasks_owner_idempotency_key_idx ON tasks (owner, idempotency_key)
  WHERE idempotency_key IS NOT NULL;

-- The claim: pending rows in claim order. Partial, so finished rows cost the claim nothing.
CREATE INDEX tasks_claim_idx ON tasks (priority DESC, run_at, id) WHERE status = 'pending';

-- Lease recovery: in_progress rows by lease expiry.
CREATE INDEX tasks_lease_recovery_idx ON tasks (lease_expires_at) WHERE status = 'in_progress';

-- Listing a caller's tasks newest first; id breaks ties so the keyset cursor is total.
CREATE INDEX tasks_owner_created_idx ON tasks (owner, created_at DESC, id DESC);
