-- fleetd schema, version 12 (issue #10): agent credentials and bootstrap tokens can be revoked, and every replica
-- hears at once when an agent credential stops being valid.
--
-- A revoked agent credential leaves its agent row (and the inventory it stored) in place with no credential: the
-- cluster's next agent registers with a new bootstrap token and carries on from the stored inventory.
ALTER TABLE agents ALTER COLUMN credential_hash DROP NOT NULL;
ALTER TABLE agents ADD COLUMN revoked_at timestamptz;
ALTER TABLE bootstrap_tokens ADD COLUMN revoked_at timestamptz;

-- Each replica caches which cluster a credential belongs to (gateway/heartbeat_cache.hpp). Whatever ends a
-- credential (a re-registration replacing it, a revocation, the cluster deleted, or SQL by hand) notifies the old
-- credential's hash on `fleet_agent_credentials` when it commits; every replica LISTENs and forgets it
-- (gateway/credential_listener.hpp).
CREATE FUNCTION fleet_agent_credential_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF OLD.credential_hash IS NOT NULL AND
     (TG_OP = 'DELETE' OR NEW.credential_hash IS DISTINCT FROM OLD.credential_hash) THEN
    PERFORM pg_notify('fleet_agent_credentials', encode(OLD.credential_hash, 'hex'));
  END IF;
  RETURN NULL;
END;
$$;
CREATE TRIGGER agents_credential_notify AFTER UPDATE OF credential_hash OR DELETE ON agents
  FOR EACH ROW EXECUTE FUNCTION fleet_agent_credential_notify();
