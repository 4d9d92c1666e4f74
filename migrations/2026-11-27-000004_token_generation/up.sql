-- Tokens are tied to their client's internal id and a generation that disabling and "revoke all
-- tokens" advance: an old token never comes back to life when the client is enabled again.
ALTER TABLE identity_clients ADD COLUMN token_generation INTEGER NOT NULL DEFAULT 0;

-- The account's identity-client switch, copied onto each of its clients (and kept in step in
-- the switch's transaction), so the token path still reads one row of one table.
ALTER TABLE identity_clients ADD COLUMN account_enabled BOOLEAN NOT NULL DEFAULT TRUE;
UPDATE identity_clients SET account_enabled = (
    SELECT accounts.identity_clients_enabled FROM accounts WHERE accounts.id = identity_clients.account_id
);

-- Operators can switch an admin user off without deleting them (and their audit trail's label).
ALTER TABLE admin_users ADD COLUMN disabled BOOLEAN NOT NULL DEFAULT FALSE;
