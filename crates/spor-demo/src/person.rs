//! Synthetic identities: birth dates giving ages 18 to 55 on the day of
//! registration, and identity numbers that can never be a real person's.
//!
//! Fødselsnumre are made with month + 80 (the test registers' synthetic
//! numbers), so the demo log is accepted only where synthetic ids are allowed.
//! A few people have a DUF-nummer (12 digits) with the birth date beside it.
//! Numbers are drawn at random, so two people may share one in very large
//! logs; the demo does not promise that they are unique.

use chrono::{Datelike, NaiveDate};
use rand::Rng;
use spor_domain::calendar::{add_days, sub_months};
use spor_domain::person::{PersonNumber, make_fodselsnummer};

/// The synthetic fødselsnummer's month offset.
const SYNTHETIC_MONTH_OFFSET: u32 = 80;

/// One person's identity, as the `registered` event carries it.
#[derive(Debug, Clone)]
pub(crate) struct Identity {
    pub person: PersonNumber,
    /// The `birth_date` field: always given with a DUF-nummer, sometimes
    /// with a fødselsnummer (where it must agree with the number).
    pub birth_date: Option<NaiveDate>,
}

/// Draws a person aged 18 to 55 on `registered`, more of them young, as
/// among refugees settled in Norway.
pub(crate) fn draw(rng: &mut impl Rng, registered: NaiveDate) -> Identity {
    // Born after `oldest_birth` means not yet 56; born on or before
    // `youngest_birth` means at least 18.
    let oldest_birth = add_days(sub_months(registered, 56 * 12), 1);
    let youngest_birth = sub_months(registered, 18 * 12);
    let span = u32::try_from((youngest_birth - oldest_birth).num_days())
        .expect("the birth window is about 38 years of days");
    // The smaller of two draws, counted back from the youngest: a skew
    // towards people in their twenties and thirties.
    let back = rng.random_range(0..=span).min(rng.random_range(0..=span));
    let born = add_days(oldest_birth, span - back);

    if rng.random_bool(0.06) {
        // A DUF-nummer begins with the year the case was opened.
        let year = registered.year() - rng.random_range(0..=2);
        let digits = format!("{year:04}{:08}", rng.random_range(0..100_000_000u32));
        let person = PersonNumber::parse(&digits).expect("a year and eight digits are 12 digits");
        return Identity {
            person,
            birth_date: Some(born),
        };
    }
    // About one individual number in five has no check digits; a few tries
    // always find one that has.
    let digits = (0..1000)
        .find_map(|_| make_fodselsnummer(born, rng.random_range(0..500), SYNTHETIC_MONTH_OFFSET))
        .expect("some individual number in 000-499 has check digits for every date");
    let person = PersonNumber::parse(&digits).expect("make_fodselsnummer gives 11 digits");
    let birth_date = rng.random_bool(0.25).then_some(born);
    Identity { person, birth_date }
}
