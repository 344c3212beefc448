-- fleetd schema, version 19 (issue #15 item 1): node pools a rollout wants to drain but may not yet, because the
-- drain would break a workload's disruption budget (placement/disruption_budget.hpp). The rollout executor keeps
-- one row per held (run, cluster, pool), replaced at each look at the run; the placement loop counts a held pool as
-- draining (not capacity) and moves the replicas bound there elsewhere, make before break. Once they run
-- elsewhere the hold is gone, the rollout sends its upgrade_node_pool, and the row goes.
CREATE TABLE rollout_drain_holds (
  rollout    text NOT NULL REFERENCES rollouts (name) ON DELETE CASCADE,
  cluster_id uuid NOT NULL REFERENCES clusters (id) ON DELETE CASCADE,
  pool       text NOT NULL,
  reason     text NOT NULL,
  since      timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (rollout, cluster_id, pool)
);

-- A new hold wakes the placement loop, as an inventory change does: per row, so that the executor's upsert of a
-- hold that stands (every few seconds) wakes nothing.
CREATE TRIGGER rollout_drain_holds_placement_notify AFTER INSERT ON rollout_drain_holds
  FOR EACH ROW EXECUTE FUNCTION fleet_placement_inventory_notify();
