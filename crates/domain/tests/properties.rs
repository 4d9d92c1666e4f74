//! Properties of the domain types over generated input: each rule holds exactly at its
//! boundaries, and no input makes a parser panic.
use proptest::prelude::*;
use serde_json::{Value, json};
use vitesse_domain::*;

fn allowed_id_char() -> impl Strategy<Value = char> {
    prop_oneof![
        proptest::char::range('a', 'z'),
        proptest::char::range('A', 'Z'),
        proptest::char::range('0', '9'),
        Just('-'),
        Just('.'),
        Just('_'),
        Just('~'),
    ]
}

proptest! {
    #[test]
    fn client_id_valid_exactly_when_length_and_charset_hold(s in "\\PC{0,120}") {
        let n = s.chars().count();
        let charset = s.chars().all(|c| c.is_ascii_alphanumeric() || "-._~".contains(c));
        prop_assert_eq!(ClientId::parse(&s).is_ok(), (6..=100).contains(&n) && charset);
    }

    #[test]
    fn client_ids_of_allowed_characters_round_trip(chars in proptest::collection::vec(allowed_id_char(), 6..=100)) {
        let s: String = chars.into_iter().collect();
        let id = ClientId::parse(&s).unwrap();
        let back: ClientId = serde_json::from_value(serde_json::to_value(&id).unwrap()).unwrap();
        prop_assert_eq!(back.as_str(), s.as_str());
        prop_assert_eq!(id.uniqueness_key(), s.to_ascii_lowercase());
    }

    #[test]
    fn secrets_count_characters_not_bytes(s in "[^\\p{Cc}]{0,120}") {
        let n = s.chars().count();
        prop_assert_eq!(ClientSecret::parse(&s).is_ok(), (6..=100).contains(&n));
    }

    #[test]
    fn names_are_trimmed_then_counted(core in "\\PC{0,110}", pad in "[ \\t]{0,5}") {
        let input = format!("{pad}{core}{pad}");
        let trimmed = input.trim();
        let n = trimmed.chars().count();
        match ClientName::parse_optional(Some(&input)) {
            Ok(None) => prop_assert!(trimmed.is_empty()),
            Ok(Some(name)) => {
                prop_assert_eq!(name.as_str(), trimmed);
                prop_assert!((3..=100).contains(&n));
            }
            Err(e) => {
                prop_assert_eq!(e.field.as_str(), "name");
                prop_assert!(!(3..=100).contains(&n));
            }
        }
    }

    #[test]
    fn token_duration_is_ten_to_sixty_minutes(m in any::<i64>()) {
        prop_assert_eq!(TokenDuration::parse(m).is_ok(), (10..=60).contains(&m));
    }

    #[test]
    fn role_sets_refuse_empty_and_duplicates(names in proptest::collection::vec("[a-z]{1,3}:[a-z]{1,3}", 0..6)) {
        let mut unique = names.clone();
        unique.sort();
        unique.dedup();
        let ok = !names.is_empty() && unique.len() == names.len();
        prop_assert_eq!(RoleSet::parse(&names).is_ok(), ok);
    }
}

fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| json!(f)),
        "\\PC{0,120}".prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::from),
            proptest::collection::btree_map(
                prop_oneof![
                    Just("client_id".to_string()),
                    Just("client_secret".to_string()),
                    Just("name".to_string()),
                    Just("description".to_string()),
                    Just("token_duration_minutes".to_string()),
                    Just("roles".to_string()),
                    Just("enabled".to_string()),
                    "[a-z]{1,8}",
                ],
                inner,
                0..8,
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// Any JSON at all: a valid client, or errors that each name a field — never a panic.
    #[test]
    fn request_parsers_never_panic(body in any_json()) {
        let test_now = || chrono::DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        match NewClient::from_json(&body, test_now()) {
            Ok(c) => prop_assert!(ClientId::parse(c.client_id.as_str()).is_ok()),
            Err(errs) => prop_assert!(!errs.0.is_empty()),
        }
        let _ = ClientPatch::from_json(&body, test_now());
    }
}
