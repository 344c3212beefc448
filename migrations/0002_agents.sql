-- fleetd schema, version 2: agent registration. A cluster's agent registers once with a one-time bootstrap token
-- (created by an operator) and receives a long-lived per-cluster credential; only hashes are stored.

CREATE TABLE bootstrap_tokens (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  token_hash  bytea NOT NULL UNIQUE,            -- SHA-256 of the token
  cluster_id  uuid NOT NULL REFERENCES clusters (id) ON DELETE CASCADE,
  created_by  text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  expires_at  timestamptz NOT NULL,
  used_at     timestamptz                       -- set once, by the registration that consumed it
);
CREATE INDEX bootstrap_tokens_cluster ON bootstrap_tokens (cluster_id);

CREATE TABLE agents (
  cluster_id         uuid PRIMARY KEY REFERENCES clusters (id) ON DELETE CASCADE,
  credential_hash    bytea NOT NULL UNIQUE,     -- SHA-256 of the agent's credential
  agent_version      text NOT NULL DEFAULT '',
  registered_at      timestamptz NOT NULL DEFAULT now(),
  last_seen          timestamptz,
  heartbeat_sequence bigint NOT NULL DEFAULT 0
);
