//! Account names, roles, and which roles hold units.

use insta::assert_snapshot;
use spor_accounts::{
    Account, AccountName, DUMMY_PASSWORD_HASH, NewAccount, PasswordHash, PasswordSetBy, Role,
    SecondFactor,
};

use crate::common::{adviser, name, now, refusal, unit};

#[test]
fn names_of_the_allowed_characters_are_accepted() {
    for ok in [
        "a",
        "kari.nordmann",
        "ola_n-2",
        "0301-leder",
        &"x".repeat(64),
    ] {
        assert_eq!(AccountName::parse(ok).unwrap().as_str(), ok);
    }
}

#[test]
fn names_outside_the_rule_are_refused() {
    assert_snapshot!(refusal(AccountName::parse("")), @"bad_name: the account name is empty; an account name is 1 to 64 characters of a-z, 0-9, '.', '_' and '-'");
    assert_snapshot!(refusal(AccountName::parse(&"x".repeat(65))), @"bad_name: the account name has 65 characters; an account name is 1 to 64 characters of a-z, 0-9, '.', '_' and '-'");
    assert_snapshot!(refusal(AccountName::parse("Kari")), @"bad_name: the account name has 'K' at character 1; an account name is 1 to 64 characters of a-z, 0-9, '.', '_' and '-'");
    for bad in ["kari nordmann", "kåre", "kari@nav.no", "kari/..", "ola\n"] {
        assert_eq!(
            AccountName::parse(bad).unwrap_err().code(),
            "bad_name",
            "{bad:?}"
        );
    }
}

#[test]
fn names_are_checked_when_read_from_json() {
    assert_eq!(serde_json::to_string(&name("kari")).unwrap(), r#""kari""#);
    assert_eq!(
        serde_json::from_str::<AccountName>(r#""kari""#).unwrap(),
        name("kari")
    );
    assert!(serde_json::from_str::<AccountName>(r#""KARI""#).is_err());
}

#[test]
fn roles_round_trip_through_text_and_json() {
    for role in Role::ALL {
        assert_eq!(role.as_str().parse::<Role>().unwrap(), role);
        assert_eq!(role.to_string(), role.as_str());
        let json = serde_json::to_string(&role).unwrap();
        assert_eq!(json, format!("\"{}\"", role.as_str()));
        assert_eq!(serde_json::from_str::<Role>(&json).unwrap(), role);
    }
    assert_eq!(
        Role::ALL.map(Role::as_str),
        ["adviser", "leader", "analyst", "admin"]
    );
}

#[test]
fn an_unknown_role_is_refused_naming_the_valid_ones() {
    let e = "Adviser".parse::<Role>().unwrap_err();
    assert_eq!(e.code(), "bad_role");
    assert_snapshot!(e, @"unknown role `Adviser`; the roles are adviser, leader, analyst and admin");
    assert!("veileder".parse::<Role>().is_err());
    assert!(serde_json::from_str::<Role>(r#""superuser""#).is_err());
}

fn new(role: Role, units: &[&str]) -> Result<Account, spor_accounts::AccountError> {
    Account::new(NewAccount {
        name: name("kari"),
        role,
        units: units.iter().map(|u| unit(u)).collect(),
        password: PasswordHash::from_phc(DUMMY_PASSWORD_HASH).unwrap(),
        created_at: now(),
    })
}

#[test]
fn advisers_and_leaders_need_units() {
    assert!(new(Role::Adviser, &["0301"]).is_ok());
    assert!(new(Role::Leader, &["0301", "030101"]).is_ok());
    assert_snapshot!(refusal(new(Role::Adviser, &[])), @"units_required: an account with role adviser needs at least one unit (a municipality or Oslo ward number)");
    assert_eq!(new(Role::Leader, &[]).unwrap_err().code(), "units_required");
}

#[test]
fn analysts_and_admins_are_refused_units() {
    assert!(new(Role::Analyst, &[]).is_ok());
    assert!(new(Role::Admin, &[]).is_ok());
    assert_snapshot!(refusal(new(Role::Analyst, &["0301"])), @"units_refused: an account with role analyst has no units; only adviser and leader accounts have units");
    assert_eq!(
        new(Role::Admin, &["0301"]).unwrap_err().code(),
        "units_refused"
    );
}

#[test]
fn a_new_account_is_enabled_with_a_one_time_password_and_no_second_factor() {
    let account = new(Role::Leader, &["1103", "0301", "1103"]).unwrap();
    assert_eq!(
        account.units(),
        &[unit("0301"), unit("1103")],
        "sorted, without duplicates"
    );
    assert!(!account.is_disabled());
    assert!(account.must_change_password());
    assert_eq!(account.second_factor(), &SecondFactor::None);
    assert!(!account.has_second_factor());
    assert_eq!(account.created_at(), now());
}

#[test]
fn who_set_the_password_decides_whether_it_must_change() {
    let mut account = adviser("kari");
    let hash = PasswordHash::from_phc(DUMMY_PASSWORD_HASH).unwrap();
    account.set_password(hash.clone(), PasswordSetBy::Owner);
    assert!(!account.must_change_password());
    account.set_password(hash, PasswordSetBy::Operator);
    assert!(account.must_change_password());
}

#[test]
fn changing_role_keeps_the_unit_rule() {
    let mut account = adviser("kari");
    assert_eq!(
        account
            .set_role(Role::Analyst, vec![unit("0301")])
            .unwrap_err()
            .code(),
        "units_refused"
    );
    assert_eq!(
        account.role(),
        Role::Adviser,
        "a refused change leaves the role"
    );
    account.set_role(Role::Analyst, vec![]).unwrap();
    assert_eq!((account.role(), account.units()), (Role::Analyst, &[][..]));
    assert_eq!(
        account.set_role(Role::Leader, vec![]).unwrap_err().code(),
        "units_required"
    );
}

#[test]
fn disabled_accounts_are_refused() {
    let mut account = adviser("kari");
    assert!(account.ensure_enabled().is_ok());
    account.disable();
    assert_snapshot!(refusal(account.ensure_enabled()), @"account_disabled: the account `kari` is disabled");
    account.enable();
    assert!(account.ensure_enabled().is_ok());
}

#[test]
fn accounts_round_trip_through_json_and_the_unit_rule_is_checked_on_read() {
    let account = adviser("kari");
    let json = serde_json::to_value(&account).unwrap();
    assert_eq!(
        serde_json::from_value::<Account>(json.clone()).unwrap(),
        account
    );

    let mut no_units = json.clone();
    no_units["units"] = serde_json::json!([]);
    assert!(
        serde_json::from_value::<Account>(no_units)
            .unwrap_err()
            .to_string()
            .contains("needs at least one unit")
    );

    let mut extra = json;
    extra["superuser"] = serde_json::json!(true);
    assert!(
        serde_json::from_value::<Account>(extra).is_err(),
        "unknown fields are refused"
    );
}
