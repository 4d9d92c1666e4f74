DROP TABLE audit_events;
DROP INDEX identity_clients_account_updated;
DROP INDEX identity_clients_account_created;
ALTER TABLE identity_clients DROP COLUMN last_used_at;
ALTER TABLE identity_clients DROP COLUMN name_key;
