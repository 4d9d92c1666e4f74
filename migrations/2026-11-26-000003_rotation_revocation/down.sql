DROP TABLE revoked_tokens;
ALTER TABLE identity_clients DROP COLUMN previous_secret_expires_at;
ALTER TABLE identity_clients DROP COLUMN previous_secret_hash;
