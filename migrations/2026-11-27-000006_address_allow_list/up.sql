-- A client's address allow-list: CIDR ranges separated by spaces; NULL for any address.
ALTER TABLE identity_clients ADD COLUMN allowed_addresses TEXT;
