DROP TABLE signing_keys;
DROP TABLE identity_client_roles;
DROP TABLE identity_clients;
DROP TABLE api_roles;
DROP TABLE sessions;
DROP TABLE admin_users;
DROP TABLE accounts;
