-- fleetd schema, version 14 (issue #13 item 2): a member whose turn comes outside its cluster's maintenance window
-- waits in state WaitingForWindow; it still has work, so it counts as open for "one run per cluster".
ALTER TABLE rollout_members DROP CONSTRAINT rollout_members_state_check;
ALTER TABLE rollout_members ADD CONSTRAINT rollout_members_state_check
  CHECK (state IN ('Pending', 'WaitingForWindow', 'Upgrading', 'Probing', 'Succeeded', 'Failed', 'Skipped'));
DROP INDEX rollout_members_open;
CREATE INDEX rollout_members_open ON rollout_members (cluster)
  WHERE state IN ('Pending', 'WaitingForWindow', 'Upgrading', 'Probing');
