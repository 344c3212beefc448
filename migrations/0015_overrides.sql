-- fleetd schema, version 15 (issue #15 item 2): per-cluster overrides of workload manifests and, per binding, the
-- overrides it was applied with. An override (placement/override_json.hpp) names workloads and holds rules of a
-- cluster selector and JSON Patch operations; the placement loop applies the matching ones when it applies a
-- binding (placement/manifest_override.hpp) and records what it applied.

CREATE TABLE overrides (
  id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  name             text NOT NULL UNIQUE CHECK (name ~ '^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$'),
  spec             jsonb NOT NULL CHECK (jsonb_typeof(spec) = 'object'),  -- placement::to_json(Override)
  -- spec->'workloads' again, as an array the placement loop finds a round's overrides by (GIN, `&&`).
  workloads        text[] NOT NULL,
  -- Bumped when the spec changes: a binding's record names the generation it applied, so a changed override is
  -- applied again where it matters and nowhere else.
  generation       bigint NOT NULL DEFAULT 1,
  resource_version bigint NOT NULL DEFAULT nextval('resource_version_seq'),
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX overrides_workloads ON overrides USING gin (workloads);

-- [{"override", "generation", "rules": [index, …]}]: what the binding's last apply_workload was patched with.
ALTER TABLE workload_bindings ADD COLUMN overrides jsonb NOT NULL DEFAULT '[]'::jsonb
  CHECK (jsonb_typeof(overrides) = 'array');
