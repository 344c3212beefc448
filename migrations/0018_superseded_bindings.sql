-- fleetd schema, version 18 (issue #15 item 1, re-placement): a binding the placement moved off a live cluster is
-- Superseded: its replicas keep running there until every other binding of the workload runs, and only then does
-- the placement loop delete it (make before break). fleetd/loops/binding_changes.hpp has the rules.
ALTER TABLE workload_bindings DROP CONSTRAINT workload_bindings_state_check;
ALTER TABLE workload_bindings ADD CONSTRAINT workload_bindings_state_check
  CHECK (state IN ('Pending', 'Applied', 'Running', 'Failed', 'Deleting', 'Superseded'));
CREATE INDEX workload_bindings_superseded ON workload_bindings (workload_id) WHERE state = 'Superseded';
