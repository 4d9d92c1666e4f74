-- Audit trail, last use, and a lower-cased name for searching alike on both backends.
ALTER TABLE identity_clients ADD COLUMN name_key TEXT;
ALTER TABLE identity_clients ADD COLUMN last_used_at TIMESTAMP;
UPDATE identity_clients SET name_key = LOWER(name);
CREATE INDEX identity_clients_account_created ON identity_clients (account_id, created_at);
CREATE INDEX identity_clients_account_updated ON identity_clients (account_id, updated_at);

-- No foreign key to identity_clients: the trail outlives a deleted client.
CREATE TABLE audit_events (
    id TEXT PRIMARY KEY NOT NULL,
    client_pk TEXT NOT NULL,
    account_id TEXT NOT NULL,
    action TEXT NOT NULL,
    actor_type TEXT NOT NULL,
    actor_id TEXT NOT NULL,
    actor_label TEXT NOT NULL,
    source_ip TEXT,
    -- JSON object: field -> {"from": .., "to": ..}; the secret only ever as "changed"
    changes TEXT NOT NULL,
    occurred_at TIMESTAMP NOT NULL
);
CREATE INDEX audit_events_client ON audit_events (client_pk, occurred_at);
