DROP INDEX identity_clients_account_created;
DROP INDEX identity_clients_account_updated;
CREATE INDEX identity_clients_account_created ON identity_clients (account_id, created_at);
CREATE INDEX identity_clients_account_updated ON identity_clients (account_id, updated_at);
ALTER TABLE identity_clients DROP COLUMN previous_secret_last_used_at;
ALTER TABLE identity_clients DROP COLUMN previous_secret_created_at;
ALTER TABLE identity_clients DROP COLUMN secret_last_used_at;
ALTER TABLE identity_clients DROP COLUMN secret_expires_at;
ALTER TABLE identity_clients DROP COLUMN secret_created_at;
