-- fleetd schema, version 22 (issue #13 item 3): auto-upgrade profiles. A profile follows a channel of the version
-- catalog (rollout/auto_upgrade.hpp); fleetd's auto-upgrade loop creates one update run per release the channel
-- selects. Each release a profile acted on is a row of auto_upgrade_releases, written in the transaction that creates
-- its run, so that no replica, and no restart, creates a second run for it (the primary key refuses the second).
CREATE TABLE auto_upgrade_profiles (
  name             text PRIMARY KEY,
  spec             jsonb NOT NULL,  -- rollout::to_json(AutoUpgradeProfile), the name included
  created_by       text NOT NULL,
  resource_version bigint NOT NULL DEFAULT nextval('resource_version_seq'),
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  -- Why the last due run could not be created (a cluster in another run, the strategy gone…); it is tried again
  -- on the loop's next round. NULL once a run is created.
  last_error       text,
  last_error_at    timestamptz
);

CREATE TABLE auto_upgrade_releases (
  profile     text NOT NULL REFERENCES auto_upgrade_profiles (name) ON DELETE CASCADE,
  release_key text NOT NULL,  -- "1.33.5" | "img-20251103-1a2b3c"
  -- The run created for it; NULL for the baseline, the release selected when the profile was created or changed.
  rollout     text,
  created_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (profile, release_key)
);
