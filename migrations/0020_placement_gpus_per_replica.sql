-- fleetd schema, version 20 (issue #14): the GPUs per replica that a decision's hints carry, kept beside the
-- decision. The placement loop reads it for every binding in every round (what each node has bound, and the
-- bindings whose agents it follows). Read out of the decision, it decompressed the whole stored decision (a
-- thousand rejections, some 100 KB) once per binding row: about 100 MB a round at ten PickN-100 workloads.
ALTER TABLE workload_placements
  ADD COLUMN gpus_per_replica integer GENERATED ALWAYS AS ((decision -> 'hints' ->> 'gpusPerReplica')::integer) STORED;
