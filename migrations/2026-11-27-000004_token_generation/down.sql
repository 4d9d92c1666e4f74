ALTER TABLE admin_users DROP COLUMN disabled;
ALTER TABLE identity_clients DROP COLUMN account_enabled;
ALTER TABLE identity_clients DROP COLUMN token_generation;
