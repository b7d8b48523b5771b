//! The operator domain's rules: roles → scopes, reasons, API keys under attack.

use super::*;

#[test]
fn roles_grant_the_scopes_the_issue_names() {
    let names = |roles: &[Role]| -> Vec<&str> {
        scopes_of(&roles.iter().copied().collect())
            .into_iter()
            .map(Scope::name)
            .collect()
    };
    assert_eq!(
        names(&[Role::Moderator]),
        [
            "rooms:read",
            "rooms:write",
            "users:read",
            "users:write",
            "audit:read"
        ]
    );
    assert_eq!(
        names(&[Role::Auditor]),
        ["rooms:read", "users:read", "audit:read"]
    );
    assert!(names(&[Role::Admin]).contains(&"admin"));
    assert!(!names(&[Role::Moderator, Role::Auditor]).contains(&"admin"));
    assert!(names(&[]).is_empty());
    assert!(Role::parse("root").is_err() && Role::parse("Admin").is_err());
    assert!(Scope::parse_for_key("admin").is_err());
    assert_eq!(
        Scope::parse_for_key("rooms:write").map(Scope::name),
        Ok("rooms:write")
    );
}

#[test]
fn a_reason_is_one_to_five_hundred_plain_characters() {
    assert!(Reason::parse("reason", "spam").is_ok());
    assert!(Reason::parse("reason", &"理".repeat(500)).is_ok());
    for bad in [
        String::new(),
        "   ".to_owned(),
        "x".repeat(501),
        "line\nbreak".to_owned(),
        "nul\0".to_owned(),
        "esc\u{1b}[31m".to_owned(),
    ] {
        assert!(Reason::parse("reason", &bad).is_err(), "{bad:?}");
    }
}

#[test]
fn a_new_key_verifies_only_its_own_secret() {
    let key = NewKey::generate().unwrap();
    let other = NewKey::generate().unwrap();
    assert_ne!(key.key_id, other.key_id);
    let presented = PresentedKey::parse(&key.secret).unwrap();
    assert_eq!(presented.key_id, key.key_id);
    assert!(presented.matches(&key.hash));
    assert!(!presented.matches(&other.hash));
    // 256 random bits, never in the hash's text.
    // After `lrk_`, the 16-digit id and `_` (the secret itself may hold `_`).
    let secret_part = &key.secret[KEY_PREFIX.len() + 17..];
    assert_eq!(secret_part.len(), 43);
    assert!(!format!("{:?}", key.hash).contains(&key.hash.0));
    assert!(!format!("{presented:?}").contains(secret_part));

    // What an attacker would try: another key's secret under this id, a truncated or
    // extended secret, another prefix, case changes, padding, an empty secret.
    let (id, theirs) = (key.key_id.as_str(), &other.secret[KEY_PREFIX.len() + 17..]);
    let forged = format!("lrk_{id}_{theirs}");
    assert!(!PresentedKey::parse(&forged).unwrap().matches(&key.hash));
    for bad in [
        format!("lrk_{id}_{}", &secret_part[..42]),
        format!("lrk_{id}_{secret_part}A"),
        format!("lrk_{id}_{secret_part}="),
        format!("lrk_{id}_"),
        format!("lrk_{id}"),
        format!("lrk_{}_{secret_part}", id.to_uppercase()),
        format!("LRK_{id}_{secret_part}"),
        format!("lrk_{}_{secret_part}", &id[..15]),
        format!("xlrk_{id}_{secret_part}"),
        String::new(),
    ] {
        assert!(PresentedKey::parse(&bad).is_none(), "{bad}");
    }
}
