-- fleetd schema, version 10: workloads and their placement (issue #14, DESIGN §7). A workload is what people write
-- through /v1/workloads (fleetd/store/workload_store); its generation counts changes to what it asks for, so the
-- placement loop knows which decisions are stale. The loop writes the decision and the bindings, one per chosen
-- cluster, and tracks each binding's state from the agents' reports.

CREATE TABLE workloads (
  id                    uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  name                  text NOT NULL UNIQUE CHECK (name ~ '^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$'),
  spec                  jsonb NOT NULL CHECK (jsonb_typeof(spec) = 'object'),  -- placement/workload_json.hpp, no manifests
  manifests             jsonb NOT NULL CHECK (jsonb_typeof(manifests) = 'array'),
  -- Bumped when the spec or the manifests change (not for state changes): the placement loop compares it with
  -- workload_placements.generation.
  generation            bigint NOT NULL DEFAULT 1,
  resource_version      bigint NOT NULL DEFAULT nextval('resource_version_seq'),
  state                 text NOT NULL DEFAULT 'Pending'
                        CHECK (state IN ('Pending', 'Placed', 'PartiallyPlaced', 'Unplaceable', 'Deleting')),
  deletion_requested_at timestamptz,
  created_at            timestamptz NOT NULL DEFAULT now(),
  updated_at            timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX workloads_state ON workloads (state);

-- The latest decision for a workload: which generation it decided, the chosen clusters and the reasons for the
-- others (placement/decision_json).
CREATE TABLE workload_placements (
  workload_id uuid PRIMARY KEY REFERENCES workloads (id) ON DELETE CASCADE,
  generation  bigint NOT NULL,
  decision    jsonb NOT NULL,
  decided_at  timestamptz NOT NULL DEFAULT now()
);

-- What runs where: replicas per chosen cluster, the nodes they were assigned, and the state the agent reported.
CREATE TABLE workload_bindings (
  workload_id uuid NOT NULL REFERENCES workloads (id) ON DELETE CASCADE,
  -- A deleted cluster takes its bindings with it; the placement loop places those replicas again.
  cluster_id  uuid NOT NULL REFERENCES clusters (id) ON DELETE CASCADE,
  replicas    integer NOT NULL CHECK (replicas >= 0),
  nodes       jsonb NOT NULL DEFAULT '[]'::jsonb,
  state       text NOT NULL DEFAULT 'Pending' CHECK (state IN ('Pending', 'Applied', 'Running', 'Failed', 'Deleting')),
  command_id  text,      -- the apply_workload / delete_workload command in flight, if any
  message     text NOT NULL DEFAULT '',
  updated_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (workload_id, cluster_id)
);
CREATE INDEX workload_bindings_cluster ON workload_bindings (cluster_id);
