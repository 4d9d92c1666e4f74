ALTER TABLE identity_clients DROP COLUMN allowed_addresses;
