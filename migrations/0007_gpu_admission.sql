-- fleetd schema, version 7: GPU node admission (issue #11). Agents report every finished gpu-probe run with their
-- heartbeat (protocol/probe_result.hpp); fleetd keeps it here, once per (cluster, probe_id), so a heartbeat
-- that is resent after a lost answer stores nothing twice. Admission policies say how clusters prove their GPU
-- nodes; an agent reads the one that applies to its cluster.

CREATE TABLE probe_results (
  id            bigserial PRIMARY KEY,
  cluster_id    uuid NOT NULL REFERENCES clusters (id) ON DELETE CASCADE,
  probe_id      text NOT NULL,
  node_name     text NOT NULL,
  gpu_model     text NOT NULL,  -- the node's first GPU model when the result arrived ('' when unknown)
  trigger       text NOT NULL CHECK (trigger IN ('join', 'upgrade', 'schedule', 'health', 'manual', 'repair')),
  gpu_uuids     jsonb NOT NULL,
  started_at    timestamptz NOT NULL,
  finished_at   timestamptz NOT NULL,
  verdict       text NOT NULL CHECK (verdict IN ('pass', 'warn', 'fail', 'could-not-run', 'not-run')),
  admitted      boolean NOT NULL,
  reason        text NOT NULL,
  failed_checks jsonb NOT NULL,  -- an array of check names
  probe_version text NOT NULL,
  report        jsonb,           -- gpu-probe's report, when the probe wrote one
  received_at   timestamptz NOT NULL DEFAULT now(),
  UNIQUE (cluster_id, probe_id)
);
CREATE INDEX probe_results_node ON probe_results (cluster_id, node_name, finished_at DESC, id DESC);
CREATE INDEX probe_results_finished ON probe_results (finished_at DESC, id DESC);
CREATE INDEX probe_results_failed_checks ON probe_results USING gin (failed_checks);

CREATE TABLE admission_policies (
  name             text PRIMARY KEY,
  cluster_selector text NOT NULL,   -- a label selector's canonical text; '' selects every cluster
  selector_json    jsonb NOT NULL,  -- the same, as fleet_labels_match reads it (model/label_selector.hpp)
  priority         integer NOT NULL,
  settings         jsonb NOT NULL,  -- mode, thresholds, re-probe interval, concurrency, timeout
  resource_version bigint NOT NULL DEFAULT nextval('resource_version_seq'),
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now()
);
