-- fleetd schema, version 1: the cluster registry, API tokens, the audit log and idempotency records.
-- Migrations are append-only: never edit this file once released; add 0002_….sql instead.

CREATE EXTENSION IF NOT EXISTS pgcrypto;

-- One fleet-wide counter: every write takes the next value as the object's resourceVersion, so versions
-- order all writes (what a later watch API resumes from).
CREATE SEQUENCE resource_version_seq;

CREATE TABLE clusters (
  id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  name               text NOT NULL UNIQUE CHECK (name ~ '^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$'),
  provider           text NOT NULL CHECK (provider IN ('aks', 'arc')),
  region             text NOT NULL DEFAULT '',
  labels             jsonb NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(labels) = 'object'),
  taints             jsonb NOT NULL DEFAULT '[]'::jsonb CHECK (jsonb_typeof(taints) = 'array'),
  update_group       text NOT NULL DEFAULT '',
  kubernetes_version text NOT NULL DEFAULT '',
  node_image_version text NOT NULL DEFAULT '',
  state              text NOT NULL DEFAULT 'registering'
                     CHECK (state IN ('registering', 'ready', 'unreachable', 'cordoned', 'deleting')),
  last_heartbeat     timestamptz,
  resource_version   bigint NOT NULL DEFAULT nextval('resource_version_seq'),
  created_at         timestamptz NOT NULL DEFAULT now(),
  updated_at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX clusters_labels_gin ON clusters USING gin (labels jsonb_path_ops);
CREATE INDEX clusters_update_group ON clusters (update_group);

-- Kubernetes label-selector semantics over a labels object. `selector` is a JSON array of
-- {"key": k, "op": "=", "!=", "in", "notin", "exists", "!", "values": [...]}, produced by api/label_selector.
-- Kept in SQL so that a filtered list pages correctly with LIMIT and a keyset continue token. Every branch
-- must yield true or false, never NULL: bool_and skips NULLs, so a NULL would silently match.
CREATE FUNCTION fleet_labels_match(labels jsonb, selector jsonb) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT coalesce(bool_and(
    CASE r->>'op'
      WHEN '='      THEN coalesce(labels->>(r->>'key') = (r->'values'->>0), false)
      WHEN '!='     THEN (labels->>(r->>'key')) IS DISTINCT FROM (r->'values'->>0)
      WHEN 'in'     THEN coalesce(labels->>(r->>'key') IN (SELECT jsonb_array_elements_text(r->'values')), false)
      WHEN 'notin'  THEN labels->>(r->>'key') IS NULL
                         OR labels->>(r->>'key') NOT IN (SELECT jsonb_array_elements_text(r->'values'))
      WHEN 'exists' THEN labels ? (r->>'key')
      WHEN '!'      THEN NOT (labels ? (r->>'key'))
      ELSE false
    END), true)
  FROM jsonb_array_elements(selector) AS r
$$;

CREATE TABLE api_tokens (
  id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  token_hash   bytea NOT NULL UNIQUE,          -- SHA-256 of the token; the token itself is never stored
  role         text NOT NULL CHECK (role IN ('viewer', 'operator', 'admin')),
  description  text NOT NULL DEFAULT '',
  created_by   text NOT NULL DEFAULT '',
  created_at   timestamptz NOT NULL DEFAULT now(),
  revoked_at   timestamptz
);

CREATE TABLE audit_log (
  id          bigserial PRIMARY KEY,
  at          timestamptz NOT NULL DEFAULT now(),
  actor       text NOT NULL,                  -- "token:<id>" or "cli:fleetd-token-create"
  action      text NOT NULL,                  -- "cluster.create", "cluster.patch", "token.revoke", …
  object_kind text NOT NULL,
  object_name text NOT NULL,
  request_id  text NOT NULL DEFAULT '',
  outcome     text NOT NULL,                  -- "success" or the problem slug
  detail      jsonb NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX audit_log_at ON audit_log (at DESC);

CREATE TABLE idempotency_keys (
  principal     text NOT NULL,
  key           text NOT NULL,
  method        text NOT NULL,
  path          text NOT NULL,
  request_hash  bytea NOT NULL,
  status        integer NOT NULL,
  response_body text NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (principal, key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);
