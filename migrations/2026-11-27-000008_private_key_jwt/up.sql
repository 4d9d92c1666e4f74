-- Keyless clients (RFC 7523 private_key_jwt): how each client authenticates, and its public
-- keys as JSON: {"jwks": {...}} (inline) or {"jwks_uri": "https://..."}; NULL for a secret client.
ALTER TABLE identity_clients ADD COLUMN auth_method TEXT NOT NULL DEFAULT 'client_secret';
ALTER TABLE identity_clients ADD COLUMN client_keys TEXT;

-- Assertions already used, until they expire: a jti works once, on any instance.
CREATE TABLE used_assertions (
    jti_key TEXT PRIMARY KEY,
    expires_at TIMESTAMP NOT NULL
);
CREATE INDEX used_assertions_expiry ON used_assertions (expires_at);

-- The last fetch of each client's jwks_uri, for its details page.
CREATE TABLE jwks_fetches (
    client_pk TEXT PRIMARY KEY REFERENCES identity_clients (id) ON DELETE CASCADE,
    url TEXT NOT NULL,
    jwks TEXT,
    fetched_at TIMESTAMP,
    error TEXT,
    error_at TIMESTAMP
);
