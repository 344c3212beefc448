-- fleetd schema, version 16 (issue #15 item 5): a workload's events, every decision that changed something and
-- every move, each with its reason (fleetd/loops/placement_events.hpp). Written by the placement loop in the
-- transaction of the decision or report they describe; read by GET /v1/workloads/{name}/events, oldest first.
-- They go with the workload, and the record sweeper deletes those older than 14 days.

CREATE TABLE workload_events (
  seq         bigserial PRIMARY KEY,
  workload_id uuid NOT NULL REFERENCES workloads (id) ON DELETE CASCADE,
  at          timestamptz NOT NULL,
  generation  bigint NOT NULL,  -- of the workload the decision or binding was for
  type        text NOT NULL CHECK (type IN ('Decided', 'Bound', 'Unbound', 'Applied', 'Running', 'Failed', 'Removed')),
  cluster     text NOT NULL DEFAULT '',  -- empty for Decided
  message     text NOT NULL
);
CREATE INDEX workload_events_workload ON workload_events (workload_id, seq);
CREATE INDEX workload_events_at ON workload_events (at);
