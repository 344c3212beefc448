-- fleetd schema, version 9: staged upgrades (issue #12, DESIGN §6). Strategies are reusable; a rollout (an update
-- run) freezes its spec, its plan and its members at creation. The executor (fleetd/loops/rollout_executor) keeps
-- the run-level state in rollouts.status and each member's in its own row, and writes an event for every
-- transition in the same transaction.

CREATE TABLE update_strategies (
  name             text PRIMARY KEY,
  spec             jsonb NOT NULL,  -- {"stages", "failurePolicy"} (rollout/strategy_json.hpp)
  created_by       text NOT NULL,
  resource_version bigint NOT NULL DEFAULT nextval('resource_version_seq'),
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE rollouts (
  name             text PRIMARY KEY,
  -- The run's number: part of its agent command ids ("ro.<seq>.<member>.<step>.<attempt>").
  seq              bigserial NOT NULL UNIQUE,
  spec             jsonb NOT NULL,  -- the frozen run spec, strategy inline
  plan             jsonb NOT NULL,  -- the plan it was created from
  state            text NOT NULL CHECK (state IN ('Pending', 'Running', 'Paused', 'Completed', 'Failed', 'Aborted')),
  status           jsonb NOT NULL,  -- stages, groups, gates, counters (rollout/run_state.hpp)
  created_by       text NOT NULL,
  resource_version bigint NOT NULL DEFAULT nextval('resource_version_seq'),
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX rollouts_active ON rollouts (seq) WHERE state IN ('Pending', 'Running', 'Paused');

CREATE TABLE rollout_members (
  rollout     text NOT NULL REFERENCES rollouts (name) ON DELETE CASCADE,
  idx         integer NOT NULL,  -- the member's index in the run: part of its command ids
  cluster     text NOT NULL,
  cluster_id  uuid,              -- the cluster as it was at creation; no foreign key: a deleted cluster is skipped
  state       text NOT NULL CHECK (state IN ('Pending', 'Upgrading', 'Probing', 'Succeeded', 'Failed', 'Skipped')),
  data        jsonb NOT NULL,    -- rollout/run_state.hpp member_to_json
  updated_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (rollout, idx)
);
-- "Only one run may act on a cluster at a time": the members that still have work, by cluster.
CREATE INDEX rollout_members_open ON rollout_members (cluster) WHERE state IN ('Pending', 'Upgrading', 'Probing');

CREATE TABLE rollout_events (
  seq        bigserial PRIMARY KEY,
  rollout    text NOT NULL REFERENCES rollouts (name) ON DELETE CASCADE,
  at         timestamptz NOT NULL,
  scope      text NOT NULL CHECK (scope IN ('run', 'stage', 'group', 'member', 'gate')),
  name       text NOT NULL,
  from_state text NOT NULL,
  to_state   text NOT NULL,
  message    text NOT NULL
);
CREATE INDEX rollout_events_rollout ON rollout_events (rollout, seq);

-- An agent's report on a rollout's command wakes the executor on whichever replica runs it: the payload is the
-- run's seq, read from the command id. Only what the run machine acts on notifies: the command finishing
-- (succeeded or failed) or a node of the step starting or ending its GPU probe (the member's Probing phase);
-- the progress of every cordon, drain and upgrade does not, so a thousand members in flight do not keep the
-- executor deciding about nothing.
CREATE FUNCTION fleet_command_probing(progress jsonb) RETURNS boolean LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE WHEN jsonb_typeof(progress->'details') = 'object'
              THEN EXISTS (SELECT 1 FROM jsonb_each_text(progress->'details') d WHERE d.value = 'probing')
              ELSE false END
$$;
CREATE FUNCTION fleet_rollout_command_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.id LIKE 'ro.%' AND ((NEW.state IN ('succeeded', 'failed') AND NEW.state IS DISTINCT FROM OLD.state) OR
                             fleet_command_probing(NEW.progress) IS DISTINCT FROM fleet_command_probing(OLD.progress)) THEN
    PERFORM pg_notify('fleet_rollouts', split_part(NEW.id, '.', 2));
  END IF;
  RETURN NEW;
END;
$$;
CREATE TRIGGER agent_commands_rollout_notify AFTER UPDATE ON agent_commands
  FOR EACH ROW EXECUTE FUNCTION fleet_rollout_command_notify();
