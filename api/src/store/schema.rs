// The tables of migrations/, written by hand for both backends.

diesel::table! {
    accounts (id) {
        id -> Text,
        name -> Text,
        identity_clients_enabled -> Bool,
        created_at -> Timestamp,
    }
}

diesel::table! {
    admin_users (id) {
        id -> Text,
        account_id -> Text,
        email -> Text,
        password_hash -> Text,
        role -> Text,
        created_at -> Timestamp,
        disabled -> Bool,
    }
}

diesel::table! {
    sessions (id_hash) {
        id_hash -> Text,
        user_id -> Text,
        created_at -> Timestamp,
        last_seen_at -> Timestamp,
        expires_at -> Timestamp,
    }
}

diesel::table! {
    api_roles (name) {
        name -> Text,
        description -> Text,
        retired -> Bool,
        created_at -> Timestamp,
    }
}

diesel::table! {
    identity_clients (id) {
        id -> Text,
        account_id -> Text,
        client_id -> Text,
        client_id_key -> Text,
        secret_hash -> Text,
        name -> Nullable<Text>,
        description -> Nullable<Text>,
        token_duration_minutes -> Integer,
        enabled -> Bool,
        roles -> Text,
        version -> Integer,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        name_key -> Nullable<Text>,
        last_used_at -> Nullable<Timestamp>,
        previous_secret_hash -> Nullable<Text>,
        previous_secret_expires_at -> Nullable<Timestamp>,
        token_generation -> Integer,
        account_enabled -> Bool,
        secret_created_at -> Nullable<Timestamp>,
        secret_expires_at -> Nullable<Timestamp>,
        secret_last_used_at -> Nullable<Timestamp>,
        previous_secret_created_at -> Nullable<Timestamp>,
        previous_secret_last_used_at -> Nullable<Timestamp>,
        allowed_addresses -> Nullable<Text>,
        token_quota_per_hour -> Nullable<Integer>,
        token_quota_per_day -> Nullable<Integer>,
        token_quota_mode -> Text,
        auth_method -> Text,
        client_keys -> Nullable<Text>,
    }
}

diesel::table! {
    used_assertions (jti_key) {
        jti_key -> Text,
        expires_at -> Timestamp,
    }
}

diesel::table! {
    jwks_fetches (client_pk) {
        client_pk -> Text,
        url -> Text,
        jwks -> Nullable<Text>,
        fetched_at -> Nullable<Timestamp>,
        error -> Nullable<Text>,
        error_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    revoked_tokens (jti) {
        jti -> Text,
        client_pk -> Text,
        expires_at -> Timestamp,
    }
}

diesel::table! {
    audit_events (id) {
        id -> Text,
        client_pk -> Text,
        account_id -> Text,
        action -> Text,
        actor_type -> Text,
        actor_id -> Text,
        actor_label -> Text,
        source_ip -> Nullable<Text>,
        changes -> Text,
        occurred_at -> Timestamp,
    }
}

diesel::table! {
    identity_client_roles (client_pk, role_name) {
        client_pk -> Text,
        role_name -> Text,
    }
}

diesel::table! {
    signing_keys (kid) {
        kid -> Text,
        alg -> Text,
        private_pem -> Text,
        public_jwk -> Text,
        created_at -> Timestamp,
        active_from -> Timestamp,
        retired_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    client_usage (client_pk, hour_start) {
        client_pk -> Text,
        account_id -> Text,
        hour_start -> Timestamp,
        issued -> BigInt,
        over_quota -> BigInt,
        refused_wrong_secret -> BigInt,
        refused_disabled -> BigInt,
        refused_scope -> BigInt,
        refused_quota -> BigInt,
        refused_address -> BigInt,
    }
}

diesel::table! {
    quota_leases (client_pk, window_kind, window_start) {
        client_pk -> Text,
        window_kind -> Text,
        window_start -> Timestamp,
        granted -> BigInt,
        last_grant -> BigInt,
    }
}

diesel::joinable!(admin_users -> accounts (account_id));
diesel::joinable!(sessions -> admin_users (user_id));
diesel::joinable!(identity_clients -> accounts (account_id));
diesel::joinable!(identity_client_roles -> identity_clients (client_pk));

diesel::allow_tables_to_appear_in_same_query!(
    accounts,
    admin_users,
    sessions,
    api_roles,
    identity_clients,
    identity_client_roles,
    signing_keys,
    audit_events,
    revoked_tokens,
);
