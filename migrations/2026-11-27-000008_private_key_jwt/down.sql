DROP TABLE jwks_fetches;
DROP TABLE used_assertions;
ALTER TABLE identity_clients DROP COLUMN client_keys;
ALTER TABLE identity_clients DROP COLUMN auth_method;
