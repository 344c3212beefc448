-- fleetd schema, version 17 (issue #15 item 4): what an agent read back about each workload it applied
-- (protocol/workload_status.hpp), the latest per (cluster, workload), written by the heartbeat handler. The
-- placement loop reads it beside the bindings: Ready at the binding's generation moves an Applied binding to
-- Running, Failed moves an Applied or Running one to Failed with the agent's message. An older generation never
-- replaces a newer one (a heartbeat resent after a newer one was taken).

CREATE TABLE workload_status_reports (
  cluster_id  uuid NOT NULL REFERENCES clusters (id) ON DELETE CASCADE,
  workload    text NOT NULL,
  generation  bigint NOT NULL CHECK (generation >= 1),
  state       text NOT NULL CHECK (state IN ('Progressing', 'Ready', 'Failed')),
  message     text NOT NULL DEFAULT '',
  reported_at timestamptz NOT NULL,
  PRIMARY KEY (cluster_id, workload)
);

-- A report wakes the placement loop, once per statement, as an inventory change does.
CREATE TRIGGER workload_status_reports_placement_notify AFTER INSERT OR UPDATE ON workload_status_reports
  FOR EACH STATEMENT EXECUTE FUNCTION fleet_placement_inventory_notify();

-- The reports go with their workload: one created again under the same name starts at generation 1, and a report
-- of the old one (a higher generation) would both pass for it and hold back its own reports.
CREATE FUNCTION fleet_workload_status_reports_forget() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM workload_status_reports WHERE workload = OLD.name;
  RETURN NULL;
END;
$$;
CREATE TRIGGER workloads_forget_status_reports AFTER DELETE ON workloads
  FOR EACH ROW EXECUTE FUNCTION fleet_workload_status_reports_forget();
