-- fleetd schema, version 21 (issue #12): the plan's estimates beside the plan. A run's view (GET /v1/rollouts/{name},
-- the list, `fleetctl rollout status --watch`) shows the run's and each member's estimated seconds. Read out of the
-- stored plan (every member's steps: about 0.7 MiB at 1,000 members), they cost PostgreSQL about 30 ms and fleetd a
-- parse of the whole plan on every GET: a tenth of PostgreSQL's time while a client polled a 1,000-member run twice
-- a second. The plan itself is only read for GET /v1/rollouts/{name}:plan now.
ALTER TABLE rollouts
  ADD COLUMN estimate_seconds bigint GENERATED ALWAYS AS (COALESCE((plan ->> 'estimateSeconds')::bigint, 0)) STORED;
-- Written with the member at creation, from its plan entry (fleetd/store/rollout_store.cpp); runs created before
-- this version get theirs here.
ALTER TABLE rollout_members ADD COLUMN estimate_seconds bigint NOT NULL DEFAULT 0;
UPDATE rollout_members m SET estimate_seconds = (p ->> 'estimateSeconds')::bigint
  FROM rollouts r, jsonb_array_elements(r.plan -> 'members') p
  WHERE m.rollout = r.name AND p ->> 'cluster' = m.cluster AND p ? 'estimateSeconds';
