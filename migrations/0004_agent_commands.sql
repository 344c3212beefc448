-- fleetd schema, version 4: the agent command queue. Operators (and later the rollout engine) enqueue commands for
-- a cluster; its agent long-polls, leases them, reports progress and the result. A lease that passes returns the
-- command to the queue (up to a maximum number of attempts), so a command is never lost with its agent.

CREATE TABLE agent_commands (
  -- Chosen by the caller (idempotency by id) or a generated uuid; both fit this pattern.
  id               text PRIMARY KEY CHECK (id ~ '^[a-z0-9]([a-z0-9.-]{0,61}[a-z0-9])?$'),
  -- Creation order: claims take the oldest first, lists page on it.
  seq              bigserial NOT NULL UNIQUE,
  cluster_id       uuid NOT NULL REFERENCES clusters (id) ON DELETE CASCADE,
  kind             text NOT NULL CHECK (kind IN ('upgrade_control_plane', 'upgrade_node_pool', 'run_probe',
                                                 'apply_workload', 'delete_workload', 'cordon_cluster',
                                                 'drain_node')),
  payload          jsonb NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(payload) = 'object'),
  state            text NOT NULL DEFAULT 'queued'
                   CHECK (state IN ('queued', 'leased', 'running', 'succeeded', 'failed')),
  attempts         integer NOT NULL DEFAULT 0,   -- deliveries so far
  lease_until      timestamptz,                  -- set while leased or running
  message          text NOT NULL DEFAULT '',
  progress         jsonb,                        -- the agent's last CommandStatus
  created_by       text NOT NULL,
  resource_version bigint NOT NULL DEFAULT nextval('resource_version_seq'),
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  finished_at      timestamptz
);
-- The claim: a cluster's open commands in creation order (queued, or leased with a lease that may have passed).
CREATE INDEX agent_commands_open ON agent_commands (cluster_id, seq) WHERE state IN ('queued', 'leased', 'running');
-- The lease sweeper.
CREATE INDEX agent_commands_leases ON agent_commands (lease_until) WHERE state IN ('leased', 'running');
-- Lists per cluster, newest first.
CREATE INDEX agent_commands_cluster ON agent_commands (cluster_id, seq DESC);
