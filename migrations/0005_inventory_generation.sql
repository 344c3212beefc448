-- fleetd schema, version 5: a generation number on each agent's stored inventory. It goes up by one with every
-- write of the inventory, by any replica, and never restarts (unlike the agent's heartbeat sequence, which
-- restarts with the agent). A replica that applies deltas to an inventory it holds in memory writes only if the
-- generation is still the one it read, so a stale copy can never overwrite another replica's newer one.
ALTER TABLE agents ADD COLUMN inventory_generation bigint NOT NULL DEFAULT 0;
