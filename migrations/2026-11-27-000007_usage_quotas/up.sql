-- Token quotas: at most so many tokens per UTC hour and/or day; NULL for no limit.
ALTER TABLE identity_clients ADD COLUMN token_quota_per_hour INTEGER;
ALTER TABLE identity_clients ADD COLUMN token_quota_per_day INTEGER;
ALTER TABLE identity_clients ADD COLUMN token_quota_mode TEXT NOT NULL DEFAULT 'enforce';

-- Usage: each client's token requests per UTC hour, kept 90 days. Every instance adds what it
-- counted in memory (issued, over a report-only quota, refused by reason), so several instances
-- on one database add up.
CREATE TABLE client_usage (
    client_pk TEXT NOT NULL REFERENCES identity_clients (id) ON DELETE CASCADE,
    account_id TEXT NOT NULL,
    hour_start TIMESTAMP NOT NULL,
    issued BIGINT NOT NULL DEFAULT 0,
    over_quota BIGINT NOT NULL DEFAULT 0,
    refused_wrong_secret BIGINT NOT NULL DEFAULT 0,
    refused_disabled BIGINT NOT NULL DEFAULT 0,
    refused_scope BIGINT NOT NULL DEFAULT 0,
    refused_quota BIGINT NOT NULL DEFAULT 0,
    refused_address BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (client_pk, hour_start)
);
-- The account overview and the retention sweep.
CREATE INDEX client_usage_account_hour ON client_usage (account_id, hour_start);
CREATE INDEX client_usage_hour ON client_usage (hour_start);

-- Quota leases: how many tokens of a client's window the instances have taken between them.
-- An instance takes a block at a time with one conditional update, so the total never passes
-- the limit, whatever the number of instances.
CREATE TABLE quota_leases (
    client_pk TEXT NOT NULL REFERENCES identity_clients (id) ON DELETE CASCADE,
    window_kind TEXT NOT NULL,
    window_start TIMESTAMP NOT NULL,
    granted BIGINT NOT NULL DEFAULT 0,
    last_grant BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (client_pk, window_kind, window_start)
);
CREATE INDEX quota_leases_window ON quota_leases (window_start);
