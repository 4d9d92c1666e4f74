-- Each secret's own life: when it was made, when it expires, when it was last used; the
-- previous secret keeps its own dates through its grace period (its end stays in
-- previous_secret_expires_at). How a secret was made is read off its stored scheme.
ALTER TABLE identity_clients ADD COLUMN secret_created_at TIMESTAMP;
ALTER TABLE identity_clients ADD COLUMN secret_expires_at TIMESTAMP;
ALTER TABLE identity_clients ADD COLUMN secret_last_used_at TIMESTAMP;
ALTER TABLE identity_clients ADD COLUMN previous_secret_created_at TIMESTAMP;
ALTER TABLE identity_clients ADD COLUMN previous_secret_last_used_at TIMESTAMP;
-- Best knowledge for clients made before: the secret is no older than the last change, and
-- the client's last use was most likely with its current secret.
UPDATE identity_clients SET secret_created_at = updated_at, secret_last_used_at = last_used_at;

-- The list at 100,000 clients per account: every order ends in the id (the keyset's
-- tie-breaker), so a page is one range scan of an index in either direction; and each carries
-- the searched columns, so a search reads the index alone until its page is full.
DROP INDEX identity_clients_account;
DROP INDEX identity_clients_account_created;
DROP INDEX identity_clients_account_updated;
CREATE INDEX identity_clients_account ON identity_clients (account_id, client_id_key, id, name_key);
CREATE INDEX identity_clients_account_created
    ON identity_clients (account_id, created_at, id, client_id_key, name_key);
CREATE INDEX identity_clients_account_updated
    ON identity_clients (account_id, updated_at, id, client_id_key, name_key);
-- "A secret expires within 30 days" reads the few clients with an expiry, not the account.
CREATE INDEX identity_clients_account_secret_expiry ON identity_clients (account_id, secret_expires_at);
