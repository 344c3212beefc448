-- fleetd schema, version 8: the version catalog (issue #12 item 1, rollout/version_catalog.hpp). Kubernetes
-- versions and node images per provider, with their support windows and the GPU driver range the fleet has
-- qualified for each. fleetd fills it from the catalog it ships (rollout/catalog/versions.json) when it is empty;
-- admins add and retire entries through /v1/versions. Entries are never deleted: a retired one stays visible
-- and is never a rollout target.

CREATE TABLE versions (
  provider         text NOT NULL CHECK (provider IN ('aks', 'arc')),
  version          text NOT NULL CHECK (length(version) BETWEEN 1 AND 128),
  kind             text NOT NULL CHECK (kind IN ('kubernetes', 'nodeImage')),
  os_family        text NOT NULL DEFAULT '',  -- node images only ('Ubuntu', 'AzureLinux', …)
  released         timestamptz NOT NULL,
  end_of_support   timestamptz,               -- null: no announced end
  regions          jsonb NOT NULL DEFAULT '[]',  -- node images: where it has rolled out; [] means every region
  gpu_driver_min   text,                      -- inclusive; null: open
  gpu_driver_max   text,
  retired          boolean NOT NULL DEFAULT false,
  notes            text NOT NULL DEFAULT '',
  created_by       text NOT NULL,             -- 'fleetd' for the shipped catalog, else the admin's principal
  resource_version bigint NOT NULL DEFAULT nextval('resource_version_seq'),
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (provider, version)
);
CREATE INDEX versions_kind ON versions (kind, provider, os_family);
