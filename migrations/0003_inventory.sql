-- fleetd schema, version 3: the inventory agents report. A heartbeat writes only the nodes (and their GPUs)
-- that changed; `data` keeps the node exactly as reported so that the next delta applies to the same base.

CREATE TABLE nodes (
  cluster_id  uuid NOT NULL REFERENCES clusters (id) ON DELETE CASCADE,
  name        text NOT NULL,
  pool        text NOT NULL,
  admission   text NOT NULL,
  schedulable boolean NOT NULL,
  data        jsonb NOT NULL,
  updated_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (cluster_id, name)
);

CREATE TABLE gpus (
  cluster_id     uuid NOT NULL,
  node_name      text NOT NULL,
  idx            integer NOT NULL,
  uuid           text NOT NULL,
  model          text NOT NULL,
  memory_bytes   bigint NOT NULL,
  driver_version text NOT NULL,
  cuda_version   text NOT NULL,
  mig_mode       text NOT NULL,
  health         text NOT NULL,
  PRIMARY KEY (cluster_id, node_name, idx),
  FOREIGN KEY (cluster_id, node_name) REFERENCES nodes (cluster_id, name) ON DELETE CASCADE
);
CREATE INDEX gpus_model ON gpus (model);
