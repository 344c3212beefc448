-- fleetd schema, version 11: what the placement loop (fleetd/loops/placement_loop.hpp) needs beside the workload
-- tables of version 10.
--
-- Each binding row gets a number of its own and a revision that every new decision for it bumps; they name its
-- agent commands: `wl.<seq>.<revision>.apply` and `wl.<seq>.<revision>.delete` fit the 63-character command id
-- whatever the cluster's and workload's names are, and no decision ever reuses an earlier command's id.
ALTER TABLE workload_bindings ADD COLUMN seq bigserial UNIQUE;
ALTER TABLE workload_bindings ADD COLUMN generation bigint NOT NULL DEFAULT 0;
ALTER TABLE workload_bindings ADD COLUMN revision integer NOT NULL DEFAULT 1;

-- The loop wakes on the events that can change a decision or a binding's state, on whichever replica runs it:
-- a workload created, changed or being deleted; an agent's report that finishes a workload command; and an
-- inventory change (capacity freed or added, a node admitted, an agent's allocation), once per statement.
CREATE FUNCTION fleet_placement_workload_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('fleet_placements', 'workload');
  RETURN NULL;
END;
$$;
CREATE TRIGGER workloads_placement_notify AFTER INSERT OR UPDATE OF generation, deletion_requested_at ON workloads
  FOR EACH STATEMENT EXECUTE FUNCTION fleet_placement_workload_notify();

CREATE FUNCTION fleet_placement_command_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.id LIKE 'wl.%' AND NEW.state IN ('succeeded', 'failed') AND NEW.state IS DISTINCT FROM OLD.state THEN
    PERFORM pg_notify('fleet_placements', 'command');
  END IF;
  RETURN NEW;
END;
$$;
CREATE TRIGGER agent_commands_placement_notify AFTER UPDATE ON agent_commands
  FOR EACH ROW EXECUTE FUNCTION fleet_placement_command_notify();

CREATE FUNCTION fleet_placement_inventory_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('fleet_placements', 'inventory');
  RETURN NULL;
END;
$$;
CREATE TRIGGER nodes_placement_notify AFTER INSERT OR UPDATE OR DELETE ON nodes
  FOR EACH STATEMENT EXECUTE FUNCTION fleet_placement_inventory_notify();
