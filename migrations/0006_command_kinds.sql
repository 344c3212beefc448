-- fleetd schema, version 6: the command kinds live in one list, protocol/command_kind.hpp, which fleetd checks
-- (with each kind's payload) before it queues a command. Version 4 listed seven kinds here as well, so the two
-- lists had already drifted apart (the kubernetes backend's cordon_node and taint_node could not be queued, and
-- queueing one failed inside the INSERT). The column keeps a shape check only.
ALTER TABLE agent_commands DROP CONSTRAINT agent_commands_kind_check;
ALTER TABLE agent_commands ADD CONSTRAINT agent_commands_kind_check CHECK (kind ~ '^[a-z][a-z_]{0,62}$');
