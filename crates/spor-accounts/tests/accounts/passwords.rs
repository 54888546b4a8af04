//! Password hashes, login verification, the policy for new passwords, and
//! one-time passwords. argon2 runs at full cost, so hashing happens once.

use insta::assert_snapshot;
use spor_accounts::{
    AccountError, DUMMY_PASSWORD_HASH, ONE_TIME_PASSWORD_ALPHABET, ONE_TIME_PASSWORD_CHARS,
    PasswordHash, PasswordPolicy, PasswordSetBy, hash_password, one_time_password, verify_login,
    verify_password,
};

use crate::common::{adviser, name, rng};

/// The parts of a PHC string: algorithm, m, t, p, and the hash's length in base64.
fn phc_parts(phc: &str) -> (String, u32, u32, u32, usize) {
    let fields: Vec<&str> = phc.split('$').collect();
    assert_eq!(fields.len(), 6, "{phc}");
    assert_eq!(fields[2], "v=19");
    let mut m = 0;
    let mut t = 0;
    let mut p = 0;
    for param in fields[3].split(',') {
        let (key, value) = param.split_once('=').unwrap();
        let value: u32 = value.parse().unwrap();
        match key {
            "m" => m = value,
            "t" => t = value,
            "p" => p = value,
            other => panic!("unexpected parameter {other}"),
        }
    }
    (fields[1].to_owned(), m, t, p, fields[5].len())
}

/// One argon2 hash and a few verifications: the costly test of this binary.
#[test]
fn passwords_are_hashed_with_argon2id_and_verified_in_equal_time_for_unknown_accounts() {
    let password = "rabarbra-sykkel-fjellvann-7";
    let hash = hash_password(password);

    let (algorithm, m, t, p, hash_len) = phc_parts(hash.as_phc());
    assert_eq!(algorithm, "argon2id");
    assert!(m >= 19456, "m={m}");
    assert!(t >= 2, "t={t}");
    assert_eq!(p, 1);
    assert!(!hash.needs_rehash());
    assert_eq!(
        phc_parts(DUMMY_PASSWORD_HASH),
        (algorithm, m, t, p, hash_len),
        "the dummy hash costs what a real one does"
    );

    assert!(verify_password(&hash, password));
    assert!(!verify_password(&hash, "rabarbra-sykkel-fjellvann-8"));

    let mut account = adviser("kari");
    account.set_password(hash, PasswordSetBy::Owner);
    assert!(verify_login(Some(&account), password));
    assert!(!verify_login(Some(&account), "wrong password entirely"));
    assert!(!verify_login(None, password), "no account, no login");
    account.disable();
    assert!(
        !verify_login(Some(&account), password),
        "a disabled account is refused like a wrong password"
    );
}

#[test]
fn only_argon2_phc_strings_are_taken_as_hashes() {
    assert!(PasswordHash::from_phc(DUMMY_PASSWORD_HASH).is_ok());
    for bad in [
        "hunter2",
        "",
        "$2b$12$abcdefghijklmnopqrstuu",
        "$argon2id$garbage",
        "$argon2id$v=19$m=19456,t=2,p=1$c3Bvci1kdW1teS1zYWx0",
        "$argon2id$v=19$m=19456,t=2,p=1$c3Bvci1kdW1teS1zYWx0$not base64!",
    ] {
        assert_eq!(
            PasswordHash::from_phc(bad).unwrap_err(),
            AccountError::BadPasswordHash,
            "{bad:?}"
        );
    }
    let weaker = "$argon2id$v=19$m=4096,t=3,p=1$c3Bvci1kdW1teS1zYWx0$vR5wSgqUt2ZpGZ0qtGz6NHlQFm/qC8cUJj0bRAq7Dro";
    assert!(PasswordHash::from_phc(weaker).unwrap().needs_rehash());
}

#[test]
fn a_hash_does_not_show_in_debug_output() {
    let hash = PasswordHash::from_phc(DUMMY_PASSWORD_HASH).unwrap();
    assert_eq!(format!("{hash:?}"), "PasswordHash(argon2id, <hidden>)");
}

fn check(account: &str, password: &str) -> Result<(), String> {
    PasswordPolicy::default()
        .check(&name(account), password)
        .map_err(|refusal| format!("{}: {refusal}", refusal.code()))
}

#[test]
fn common_and_guessable_passwords_are_refused() {
    let mut accepted = Vec::new();
    for weak in [
        "password1234",
        "qwertyuiop123",
        "Passord12345",
        "123456789012",
        "aaaaaaaaaaaaaaaa",
        "Sommer123456",
        // Refused only because the policy adds Norwegian words to zxcvbn's.
        "Velkommen2024",
        "Hemmelig2024!",
        "Passord2024!",
        "Vålerenga1913",
    ] {
        accepted.extend(check("kari", weak).is_ok().then_some(weak));
        if let Err(refusal) = check("kari", weak) {
            assert!(
                refusal.starts_with("password_too_weak"),
                "{weak}: {refusal}"
            );
        }
    }
    assert_eq!(
        accepted,
        Vec::<&str>::new(),
        "weak passwords the policy let through"
    );
}

#[test]
fn a_long_random_passphrase_is_accepted() {
    for strong in [
        "vintage otter glacier mumble",
        "rabarbra-sykkel-fjellvann-7",
        "Tq8#vLz2!mRw9pXe",
    ] {
        assert_eq!(check("kari", strong), Ok(()), "{strong}");
    }
}

#[test]
fn the_length_rule_from_both_sides() {
    assert_snapshot!(check("kari", "k7#Qz!p2Wm9").unwrap_err(), @"password_too_short: the password is too short; use at least 12 characters, for example a few unrelated words");
    assert_eq!(
        check("kari", "k7#Qz!p2Wm9x"),
        Ok(()),
        "12 characters of noise are enough"
    );
    // Characters, not bytes.
    assert!(
        check("kari", "k7#Qz!p2Wæø")
            .unwrap_err()
            .starts_with("password_too_short"),
        "11 characters in 13 bytes"
    );
    assert_eq!(
        check("kari", "k7#Qz!p2Wmæø"),
        Ok(()),
        "12 characters in 14 bytes"
    );
    let long = "ordet-".repeat(43);
    assert!(long.chars().count() > 256);
    assert_snapshot!(check("kari", &long).unwrap_err(), @"password_too_long: the password is too long; use at most 256 characters");
}

#[test]
fn a_password_with_the_account_name_is_refused() {
    assert_snapshot!(check("kari.nordmann", "kari.nordmann-likes-fjords!").unwrap_err(), @"password_contains_name: the password contains the account name; choose one that does not");
    assert!(
        check("kari.nordmann", "XKARI.NORDMANN-likes-fjords")
            .unwrap_err()
            .starts_with("password_contains_name")
    );
    assert_eq!(check("ola.hansen", "kari.nordmann-likes-fjords!"), Ok(()));
    // Names shorter than three characters are not searched for.
    assert_eq!(check("ab", "vintage otter glacier mumble"), Ok(()));
}

#[test]
fn refusals_never_carry_the_password() {
    let password = "Passord12345";
    let refusal = PasswordPolicy::default()
        .check(&name("kari"), password)
        .unwrap_err();
    assert!(!refusal.to_string().contains(password));
    assert!(!format!("{refusal:?}").contains(password));
}

#[test]
fn one_time_passwords_are_twenty_unambiguous_characters_that_pass_the_policy() {
    let first = one_time_password(&mut rng(1));
    assert_eq!(
        first,
        one_time_password(&mut rng(1)),
        "the same seed gives the same password"
    );
    assert_ne!(first, one_time_password(&mut rng(2)));
    for seed in 0..20 {
        let password = one_time_password(&mut rng(seed));
        let text = password.expose();
        assert_eq!(text.chars().count(), ONE_TIME_PASSWORD_CHARS);
        assert!(
            text.bytes()
                .all(|b| ONE_TIME_PASSWORD_ALPHABET.contains(&b)),
            "{text}"
        );
        assert!(!text.contains(['0', '1', 'i', 'l', 'o', 'O', 'I']));
        assert_eq!(check("kari", text), Ok(()), "{text}");
        assert_eq!(format!("{password:?}"), "ShownOnce(<hidden>)");
    }
}
