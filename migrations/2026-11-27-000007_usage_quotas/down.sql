DROP TABLE quota_leases;
DROP TABLE client_usage;
ALTER TABLE identity_clients DROP COLUMN token_quota_mode;
ALTER TABLE identity_clients DROP COLUMN token_quota_per_day;
ALTER TABLE identity_clients DROP COLUMN token_quota_per_hour;
