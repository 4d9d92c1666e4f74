-- Tokens are tied to their client's internal id and a generation that disabling and "revoke all
-- tokens" advance: an old token never comes back to life when the client is enabled again.
ALTER TABLE identity_clients ADD COLUMN token_generation INTEGER NOT NULL DEFAULT 0;

-- Operators can switch an admin user off without deleting them (and their audit trail's label).
ALTER TABLE admin_users ADD COLUMN disabled BOOLEAN NOT NULL DEFAULT FALSE;
