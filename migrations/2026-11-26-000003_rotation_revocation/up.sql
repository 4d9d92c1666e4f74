-- Secret rotation with overlap: at most one previous secret, valid until a set time.
ALTER TABLE identity_clients ADD COLUMN previous_secret_hash TEXT;
ALTER TABLE identity_clients ADD COLUMN previous_secret_expires_at TIMESTAMP;

-- Revoked access tokens (RFC 7009), kept until the token would have expired anyway.
CREATE TABLE revoked_tokens (
    jti TEXT PRIMARY KEY NOT NULL,
    client_pk TEXT NOT NULL,
    expires_at TIMESTAMP NOT NULL
);
CREATE INDEX revoked_tokens_expiry ON revoked_tokens (expires_at);
