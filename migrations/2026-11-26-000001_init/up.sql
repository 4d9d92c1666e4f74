-- One schema for SQLite and PostgreSQL: only types and syntax both understand.
-- Timestamps are UTC without zone (diesel's Timestamp on both backends).

CREATE TABLE accounts (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    identity_clients_enabled BOOLEAN NOT NULL,
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE admin_users (
    id TEXT PRIMARY KEY NOT NULL,
    account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    email TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);

-- Sign-in sessions: only a SHA-256 of the session id is stored.
CREATE TABLE sessions (
    id_hash TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL REFERENCES admin_users (id) ON DELETE CASCADE,
    created_at TIMESTAMP NOT NULL,
    last_seen_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE api_roles (
    name TEXT PRIMARY KEY NOT NULL,
    description TEXT NOT NULL,
    retired BOOLEAN NOT NULL DEFAULT FALSE,
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE identity_clients (
    id TEXT PRIMARY KEY NOT NULL,
    account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    client_id TEXT NOT NULL UNIQUE,
    -- lower-cased client_id: IDs that differ only by case collide, platform-wide
    client_id_key TEXT NOT NULL UNIQUE,
    secret_hash TEXT NOT NULL,
    name TEXT,
    description TEXT,
    token_duration_minutes INTEGER NOT NULL CHECK (token_duration_minutes BETWEEN 10 AND 60),
    enabled BOOLEAN NOT NULL,
    -- the roles again, space-separated and sorted, so a token request reads one row
    roles TEXT NOT NULL,
    version INTEGER NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX identity_clients_account ON identity_clients (account_id, client_id_key);

CREATE TABLE identity_client_roles (
    client_pk TEXT NOT NULL REFERENCES identity_clients (id) ON DELETE CASCADE,
    role_name TEXT NOT NULL REFERENCES api_roles (name),
    PRIMARY KEY (client_pk, role_name)
);

CREATE TABLE signing_keys (
    kid TEXT PRIMARY KEY NOT NULL,
    alg TEXT NOT NULL,
    private_pem TEXT NOT NULL,
    public_jwk TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    -- the key signs from this moment on; published in the JWKS from created_at
    active_from TIMESTAMP NOT NULL,
    retired_at TIMESTAMP
);

INSERT INTO api_roles (name, description, retired, created_at) VALUES
    ('payments:read', 'View payments and their status', FALSE, CURRENT_TIMESTAMP),
    ('payments:write', 'Create, capture and cancel payments', FALSE, CURRENT_TIMESTAMP),
    ('refunds:write', 'Refund captured payments', FALSE, CURRENT_TIMESTAMP),
    ('payouts:read', 'View payouts and settlements', FALSE, CURRENT_TIMESTAMP),
    ('customers:read', 'View customers and their stored payment methods', FALSE, CURRENT_TIMESTAMP),
    ('customers:write', 'Create and update customers and their stored payment methods', FALSE, CURRENT_TIMESTAMP),
    ('webhooks:manage', 'Configure webhook endpoints', FALSE, CURRENT_TIMESTAMP),
    ('reports:read', 'Download transaction and reconciliation reports', FALSE, CURRENT_TIMESTAMP),
    ('identity-clients:manage', 'Manage identity clients through the API', FALSE, CURRENT_TIMESTAMP);
