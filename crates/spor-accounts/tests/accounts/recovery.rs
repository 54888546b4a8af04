//! Recovery codes: ten, shown once, stored as SHA-256, single use.

use std::collections::HashSet;

use chrono::TimeDelta;
use spor_accounts::{RECOVERY_CODE_COUNT, SecondFactor, generate_recovery_codes};

use crate::common::{adviser, enrolled, now, rng};

fn well_formed(code: &str) -> bool {
    let groups: Vec<&str> = code.split('-').collect();
    groups.len() == 3
        && groups.iter().all(|g| {
            g.len() == 5
                && g.bytes()
                    .all(|b| b"0123456789abcdefghjkmnpqrstvwxyz".contains(&b))
        })
}

#[test]
fn ten_distinct_codes_of_75_bits_are_made() {
    let (shown, stored) = generate_recovery_codes(&mut rng(1));
    assert_eq!(
        (shown.len(), stored.len()),
        (RECOVERY_CODE_COUNT, RECOVERY_CODE_COUNT)
    );
    for code in &shown {
        assert!(well_formed(code.expose()), "{}", code.expose());
    }
    let distinct: HashSet<&str> = shown.iter().map(|c| c.expose()).collect();
    assert_eq!(distinct.len(), RECOVERY_CODE_COUNT);
    assert!(stored.iter().all(|s| s.used_at.is_none()));
}

#[test]
fn a_recovery_code_works_once() {
    let (mut account, _, codes) = enrolled("kari");
    assert_eq!(account.unused_recovery_codes(), 10);
    let code = codes[3].expose();
    assert_eq!(account.use_recovery_code(code, now()), Ok(()));
    assert_eq!(
        account.use_recovery_code(code, now()).unwrap_err().code(),
        "code_reused"
    );
    assert_eq!(account.unused_recovery_codes(), 9);
    let SecondFactor::Enrolled { recovery_codes, .. } = account.second_factor() else {
        panic!()
    };
    assert_eq!(
        recovery_codes
            .iter()
            .filter(|c| c.used_at == Some(now()))
            .count(),
        1
    );
}

#[test]
fn a_recovery_code_is_forgiving_about_case_and_separators_but_not_content() {
    let (mut account, _, codes) = enrolled("kari");
    let typed = codes[0].expose().to_uppercase().replace('-', " ");
    assert_eq!(account.use_recovery_code(&typed, now()), Ok(()));
    let mut wrong = codes[1].expose().to_owned();
    let last = wrong.pop().unwrap();
    wrong.push(if last == 'z' { 'y' } else { 'z' });
    for bad in [
        wrong.as_str(),
        "",
        "00000-00000-00000",
        &codes[2].expose()[..11],
        &"a".repeat(1000),
    ] {
        assert_eq!(
            account.use_recovery_code(bad, now()).unwrap_err().code(),
            "bad_code",
            "{bad:?}"
        );
    }
    assert_eq!(account.unused_recovery_codes(), 9);
}

#[test]
fn only_hashes_of_recovery_codes_are_stored() {
    let (account, _, codes) = enrolled("kari");
    let json = serde_json::to_string(&account).unwrap();
    for code in &codes {
        assert!(!json.contains(code.expose()));
        assert!(!json.contains(&code.expose().replace('-', "")));
    }
}

#[test]
fn regenerating_replaces_every_code() {
    let (mut account, _, old) = enrolled("kari");
    let new = account.regenerate_recovery_codes(&mut rng(99)).unwrap();
    assert_eq!(
        account
            .use_recovery_code(old[0].expose(), now())
            .unwrap_err()
            .code(),
        "bad_code"
    );
    assert_eq!(
        account.use_recovery_code(new[0].expose(), now() + TimeDelta::minutes(1)),
        Ok(())
    );
}

#[test]
fn without_a_second_factor_there_are_no_recovery_codes() {
    let mut account = adviser("kari");
    assert_eq!(
        account
            .use_recovery_code("00000-00000-00000", now())
            .unwrap_err()
            .code(),
        "no_second_factor"
    );
    assert_eq!(
        account
            .regenerate_recovery_codes(&mut rng(1))
            .unwrap_err()
            .code(),
        "no_second_factor"
    );
    assert_eq!(account.unused_recovery_codes(), 0);
}
