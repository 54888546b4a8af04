//! Personal identity numbers: fødselsnummer, D-nummer, DUF-nummer and the
//! synthetic test numbers of the test registers.
//!
//! A number is kept as the digits the adviser typed; [`check`] decides whether
//! it is a real number of one of the accepted kinds. The digits are sensitive:
//! `Debug` and `Display` never print them whole.

use std::fmt;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// Which kind of identity number a `person` field holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PersonKind {
    /// Fødselsnummer: 11 digits, birth date first, two mod-11 check digits.
    Fodselsnummer,
    /// D-nummer: as a fødselsnummer with 4 added to the first digit.
    DNummer,
    /// DUF-nummer (the immigration authorities' case number): 12 digits; the
    /// birth date must be given beside it.
    Duf,
    /// A synthetic test number (month + 40 or month + 80), accepted only where
    /// the configuration allows synthetic numbers.
    Synthetic,
}

/// Whether synthetic test numbers are accepted (`ids.allow_synthetic`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SyntheticIds {
    #[default]
    Refused,
    Allowed,
}

/// Why a `person` value is not an acceptable identity number.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PersonError {
    #[error(
        "the identity number must be 11 digits (fødselsnummer or D-nummer) or 12 digits (DUF-nummer), digits only"
    )]
    Form,
    #[error("the identity number is all zeros")]
    Zeros,
    #[error("the identity number does not begin with a real date of birth")]
    Date,
    #[error("the identity number's check digits are wrong (mistyped?)")]
    CheckDigits,
    #[error(
        "the identity number is a synthetic test number; they are accepted only when ids.allow_synthetic is on"
    )]
    SyntheticRefused,
}

/// The digits of an identity number, unchecked beyond being ASCII digits of
/// length 11 or 12. Deserialising refuses anything else.
#[derive(Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct PersonNumber(String);

impl PersonNumber {
    pub fn parse(s: &str) -> Result<Self, PersonError> {
        if (s.len() == 11 || s.len() == 12) && s.bytes().all(|b| b.is_ascii_digit()) {
            Ok(Self(s.to_owned()))
        } else {
            Err(PersonError::Form)
        }
    }

    /// The full digits. Call only where the number is meant to leave the
    /// system: the interchange file and the participant's own page.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The first six digits and a mask, for lists where a person must be
    /// recognised but the number not disclosed.
    pub fn masked(&self) -> String {
        format!("{}*****", &self.0[..6])
    }
}

impl<'de> Deserialize<'de> for PersonNumber {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

impl fmt::Debug for PersonNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PersonNumber({})", self.masked())
    }
}

/// What a checked identity number tells: its kind and, for the 11-digit
/// kinds, the birth date it encodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Checked {
    pub kind: PersonKind,
    pub birth_date: Option<NaiveDate>,
}

/// Checks an identity number: form, date of birth, both check digits, and the
/// synthetic-number policy. A DUF-nummer has no public check-digit rule, so
/// only its form is checked; its birth date must come beside it.
pub fn check(number: &PersonNumber, synthetic: SyntheticIds) -> Result<Checked, PersonError> {
    let digits: Vec<u32> = number.0.bytes().map(|b| u32::from(b - b'0')).collect();
    if digits.len() == 12 {
        if digits.iter().all(|&d| d == 0) {
            return Err(PersonError::Zeros);
        }
        return Ok(Checked {
            kind: PersonKind::Duf,
            birth_date: None,
        });
    }
    if digits.len() != 11 {
        return Err(PersonError::Form);
    }
    if !check_digits_hold(&digits) {
        return Err(PersonError::CheckDigits);
    }
    let mut day = digits[0] * 10 + digits[1];
    let mut month = digits[2] * 10 + digits[3];
    let mut kind = PersonKind::Fodselsnummer;
    if day > 40 {
        day -= 40;
        kind = PersonKind::DNummer;
    }
    if month > 80 {
        month -= 80;
        kind = PersonKind::Synthetic;
    } else if month > 40 {
        month -= 40;
        kind = PersonKind::Synthetic;
    }
    let yy = digits[4] * 10 + digits[5];
    let individual = digits[6] * 100 + digits[7] * 10 + digits[8];
    let century = match (individual, yy) {
        (0..=499, _) => 1900,
        (500..=749, 54..=99) => 1800,
        (500..=999, 0..=39) => 2000,
        (900..=999, 40..=99) => 1900,
        _ => return Err(PersonError::Date),
    };
    let year = i32::try_from(century + yy).expect("a four-digit year fits in i32");
    let birth = NaiveDate::from_ymd_opt(year, month, day).ok_or(PersonError::Date)?;
    if kind == PersonKind::Synthetic && synthetic == SyntheticIds::Refused {
        return Err(PersonError::SyntheticRefused);
    }
    Ok(Checked {
        kind,
        birth_date: Some(birth),
    })
}

/// Both mod-11 check digits of an 11-digit number.
fn check_digits_hold(d: &[u32]) -> bool {
    const K1: [u32; 9] = [3, 7, 6, 1, 8, 9, 4, 5, 2];
    const K2: [u32; 10] = [5, 4, 3, 2, 7, 6, 5, 4, 3, 2];
    let control = |weights: &[u32]| {
        let sum: u32 = weights.iter().zip(d).map(|(w, x)| w * x).sum();
        match 11 - sum % 11 {
            11 => Some(0),
            10 => None,
            k => Some(k),
        }
    };
    control(&K1) == Some(d[9]) && control(&K2) == Some(d[10])
}

/// Builds a valid 11-digit number for a birth date and individual number,
/// with `month_offset` 0 (real), 40 or 80 (synthetic). Returns `None` when no
/// check digits exist for that individual number (about 1 in 5 do not). Used
/// by the demo generator and by tests.
pub fn make_fodselsnummer(birth: NaiveDate, individual: u32, month_offset: u32) -> Option<String> {
    use chrono::Datelike;
    let yy = u32::try_from(birth.year().rem_euclid(100)).ok()?;
    let base = format!(
        "{:02}{:02}{:02}{:03}",
        birth.day(),
        birth.month() + month_offset,
        yy,
        individual % 1000
    );
    let mut d: Vec<u32> = base.bytes().map(|b| u32::from(b - b'0')).collect();
    for weights in [
        &[3, 7, 6, 1, 8, 9, 4, 5, 2][..],
        &[5, 4, 3, 2, 7, 6, 5, 4, 3, 2][..],
    ] {
        let sum: u32 = weights.iter().zip(&d).map(|(w, x)| w * x).sum();
        let k = match 11 - sum % 11 {
            11 => 0,
            10 => return None,
            k => k,
        };
        d.push(k);
    }
    Some(
        d.iter()
            .map(|x| char::from_digit(*x, 10).expect("digit"))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn num(s: &str) -> PersonNumber {
        PersonNumber::parse(s).unwrap()
    }

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn a_real_fodselsnummer_is_accepted_with_its_birth_date() {
        let n = make_fodselsnummer(d(1975, 3, 14), 123, 0)
            .or_else(|| make_fodselsnummer(d(1975, 3, 14), 124, 0))
            .unwrap();
        let c = check(&num(&n), SyntheticIds::Refused).unwrap();
        assert_eq!(c.kind, PersonKind::Fodselsnummer);
        assert_eq!(c.birth_date, Some(d(1975, 3, 14)));
    }

    #[test]
    fn a_changed_digit_breaks_the_check_digits() {
        let n = make_fodselsnummer(d(1980, 12, 1), 345, 0)
            .or_else(|| make_fodselsnummer(d(1980, 12, 1), 346, 0))
            .unwrap();
        for i in 0..11 {
            let mut b = n.clone().into_bytes();
            b[i] = if b[i] == b'9' { b'0' } else { b[i] + 1 };
            let changed = String::from_utf8(b).unwrap();
            assert!(
                check(&num(&changed), SyntheticIds::Allowed).is_err(),
                "{changed}"
            );
        }
    }

    #[test]
    fn a_d_number_is_recognised() {
        // Born 20 May 1990: a D-nummer begins 60 (20 + 40).
        let dnr = (0..500)
            .find_map(|i| recompute(&format!("600590{i:03}")))
            .unwrap();
        let c = check(&num(&dnr), SyntheticIds::Refused).unwrap();
        assert_eq!(c.kind, PersonKind::DNummer);
        assert_eq!(c.birth_date, Some(d(1990, 5, 20)));
    }

    fn recompute(base9: &str) -> Option<String> {
        let mut d: Vec<u32> = base9.bytes().map(|b| u32::from(b - b'0')).collect();
        for weights in [
            &[3, 7, 6, 1, 8, 9, 4, 5, 2][..],
            &[5, 4, 3, 2, 7, 6, 5, 4, 3, 2][..],
        ] {
            let sum: u32 = weights.iter().zip(&d).map(|(w, x)| w * x).sum();
            d.push(match 11 - sum % 11 {
                11 => 0,
                10 => return None,
                k => k,
            });
        }
        Some(
            d.iter()
                .map(|x| char::from_digit(*x, 10).unwrap())
                .collect(),
        )
    }

    #[test]
    fn synthetic_numbers_need_the_policy() {
        for offset in [40, 80] {
            let n = (0..1000)
                .find_map(|i| make_fodselsnummer(d(1985, 7, 9), i, offset))
                .unwrap();
            assert_eq!(
                check(&num(&n), SyntheticIds::Refused)
                    .unwrap_err()
                    .to_string(),
                "the identity number is a synthetic test number; they are accepted only when ids.allow_synthetic is on"
            );
            let c = check(&num(&n), SyntheticIds::Allowed).unwrap();
            assert_eq!(c.kind, PersonKind::Synthetic);
            assert_eq!(c.birth_date, Some(d(1985, 7, 9)));
        }
    }

    #[test]
    fn an_impossible_date_is_refused_even_with_valid_check_digits() {
        // 31 February, with check digits computed for it.
        let n = (0..500)
            .find_map(|i| recompute(&format!("310280{i:03}")))
            .unwrap();
        assert_eq!(
            check(&num(&n), SyntheticIds::Allowed),
            Err(PersonError::Date)
        );
    }

    #[test]
    fn duf_numbers_are_twelve_digits() {
        let c = check(&num("200612345678"), SyntheticIds::Refused).unwrap();
        assert_eq!(c.kind, PersonKind::Duf);
        assert_eq!(c.birth_date, None);
        assert_eq!(
            check(&num("000000000000"), SyntheticIds::Refused),
            Err(PersonError::Zeros)
        );
    }

    #[test]
    fn the_form_is_checked_on_parse() {
        for bad in [
            "",
            "1234567890",
            "1234567890123",
            "1234567890a",
            "12345 678901",
        ] {
            assert_eq!(PersonNumber::parse(bad), Err(PersonError::Form), "{bad}");
        }
    }

    #[test]
    fn debug_never_prints_the_whole_number() {
        let p = num("01017512345");
        assert_eq!(format!("{p:?}"), "PersonNumber(010175*****)");
    }
}
