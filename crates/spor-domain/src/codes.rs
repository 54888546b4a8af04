//! Unit and county numbers, and Statistics Norway's code tables that name them.
//!
//! A unit (kommune or Oslo bydel) is identified by its number. The tables ship
//! inside the binary (`data/*.csv`, from SSB's KLASS 104, 131 and 103; see
//! `data/SOURCES.md` for the attribution the licence asks for), so a name can
//! be looked up as it was on any date from 2007 on.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::LazyLock;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// Why a string is not a unit number.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UnitCodeError {
    #[error(
        "unit `{0}` is not a municipality number (4 digits) or an Oslo ward number (6 digits beginning 0301)"
    )]
    Malformed(String),
    #[error(
        "unit `{code}`: {county} is not a county number in Statistics Norway's table since 2007"
    )]
    UnknownCounty { code: String, county: String },
}

/// A municipality number (kommunenummer, 4 digits whose first two are a county
/// number) or an Oslo ward number (bydelsnummer, 6 digits beginning `0301`).
///
/// The constructor checks the form and that the county prefix is one of the
/// county numbers used since 2007. A well-formed number that is missing from the
/// municipality table is still a `UnitCode`: the data-quality checks report it.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct UnitCode {
    digits: [u8; 6],
    len: u8,
}

impl UnitCode {
    /// Checks `s` and returns the unit it names.
    pub fn parse(s: &str) -> Result<Self, UnitCodeError> {
        let bytes = s.as_bytes();
        let well_formed = bytes.iter().all(u8::is_ascii_digit)
            && (bytes.len() == 4 || (bytes.len() == 6 && s.starts_with("0301")));
        if !well_formed {
            return Err(UnitCodeError::Malformed(s.to_owned()));
        }
        let county = &s[..2];
        if !tables().counties.contains_key(county) {
            return Err(UnitCodeError::UnknownCounty {
                code: s.to_owned(),
                county: county.to_owned(),
            });
        }
        let mut digits = [0u8; 6];
        digits[..bytes.len()].copy_from_slice(bytes);
        Ok(Self {
            digits,
            len: u8::try_from(bytes.len()).expect("length checked to be 4 or 6 above"),
        })
    }

    /// The number as written, with its leading zeros.
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.digits[..usize::from(self.len)])
            .expect("only ASCII digits are stored, checked in parse")
    }

    /// The county (fylke): the first two digits.
    pub fn county(&self) -> CountyCode {
        CountyCode([self.digits[0], self.digits[1]])
    }

    /// Whether this is an Oslo ward (bydel) rather than a municipality.
    pub fn is_ward(&self) -> bool {
        self.len == 6
    }

    /// The unit's name on `date`, if the shipped table knows the number then.
    pub fn name_on(&self, date: NaiveDate) -> Option<&'static str> {
        let table = if self.is_ward() {
            &tables().wards
        } else {
            &tables().municipalities
        };
        lookup(table, self.as_str(), date)
    }

    /// Whether the number is in the shipped table at all (on any date).
    pub fn is_known(&self) -> bool {
        let table = if self.is_ward() {
            &tables().wards
        } else {
            &tables().municipalities
        };
        table.contains_key(self.as_str())
    }
}

impl fmt::Display for UnitCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for UnitCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "UnitCode({})", self.as_str())
    }
}

impl std::str::FromStr for UnitCode {
    type Err = UnitCodeError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl Serialize for UnitCode {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for UnitCode {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// A county number (fylkesnummer), two digits.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CountyCode([u8; 2]);

impl CountyCode {
    /// Checks that `s` is a county number used since 2007.
    pub fn parse(s: &str) -> Option<Self> {
        let b = s.as_bytes();
        (b.len() == 2 && tables().counties.contains_key(s)).then(|| Self([b[0], b[1]]))
    }

    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).expect("county digits are ASCII, checked on construction")
    }

    /// The county's name on `date`; a county that no longer existed (or did not
    /// yet exist) then gets the name of its nearest period, so a number is never
    /// shown without a name.
    pub fn name_on(&self, date: NaiveDate) -> &'static str {
        let periods = tables()
            .counties
            .get(self.as_str())
            .expect("a CountyCode is only built from a number in the table");
        nearest(periods, date)
    }

    /// Every county number in the shipped table, in order.
    pub fn all() -> impl Iterator<Item = CountyCode> {
        tables().counties.keys().map(|k| {
            let b = k.as_bytes();
            CountyCode([b[0], b[1]])
        })
    }
}

impl fmt::Display for CountyCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for CountyCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CountyCode({})", self.as_str())
    }
}

impl Serialize for CountyCode {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// One row of a code table: a name valid over a period (both ends inclusive,
/// `None` open). An empty `valid_from` in the table means "since before 2007".
#[derive(Debug, Clone, Deserialize)]
struct Named {
    code: String,
    name: String,
    #[serde(deserialize_with = "optional_date")]
    valid_from: Option<NaiveDate>,
    #[serde(deserialize_with = "optional_date")]
    valid_to: Option<NaiveDate>,
    /// For municipalities, the county column of the table (checked by the
    /// tests against the number's first two digits).
    #[serde(default)]
    #[cfg_attr(not(test), allow(dead_code))]
    county: Option<String>,
}

impl Named {
    fn covers(&self, date: NaiveDate) -> bool {
        self.valid_from.is_none_or(|f| f <= date) && self.valid_to.is_none_or(|t| date <= t)
    }
}

fn optional_date<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<NaiveDate>, D::Error> {
    let s = String::deserialize(d)?;
    if s.is_empty() {
        return Ok(None);
    }
    NaiveDate::parse_from_str(&s, "%Y-%m-%d")
        .map(Some)
        .map_err(serde::de::Error::custom)
}

type Table = BTreeMap<String, Vec<Named>>;

struct Tables {
    counties: Table,
    municipalities: Table,
    wards: Table,
}

static TABLES: LazyLock<Tables> = LazyLock::new(|| Tables {
    counties: parse_table(include_str!("../data/counties.csv")),
    municipalities: parse_table(include_str!("../data/municipalities.csv")),
    wards: parse_table(include_str!("../data/oslo_wards.csv")),
});

fn tables() -> &'static Tables {
    &TABLES
}

/// The municipalities valid on `date`, with their names, in number order.
pub fn municipalities_on(date: NaiveDate) -> Vec<(UnitCode, &'static str)> {
    units_on(&tables().municipalities, date)
}

/// The Oslo wards valid on `date`, with their names, in number order.
pub fn wards_on(date: NaiveDate) -> Vec<(UnitCode, &'static str)> {
    units_on(&tables().wards, date)
}

fn units_on(table: &'static Table, date: NaiveDate) -> Vec<(UnitCode, &'static str)> {
    table
        .iter()
        .filter_map(|(code, rows)| {
            let row = rows.iter().find(|r| r.covers(date))?;
            Some((UnitCode::parse(code).ok()?, row.name.as_str()))
        })
        .collect()
}

fn lookup(table: &'static Table, code: &str, date: NaiveDate) -> Option<&'static str> {
    table
        .get(code)?
        .iter()
        .find(|r| r.covers(date))
        .map(|r| r.name.as_str())
}

fn nearest(periods: &'static [Named], date: NaiveDate) -> &'static str {
    if let Some(row) = periods.iter().find(|r| r.covers(date)) {
        return &row.name;
    }
    // Before the first period: the first name; after the last: the last name.
    match periods.first() {
        Some(first) if first.valid_from.is_some_and(|f| date < f) => &first.name,
        _ => periods.last().map_or("", |r| r.name.as_str()),
    }
}

/// The shipped CSV files are part of the source tree and checked by the tests
/// below, so a malformed row is a build defect, not an input error.
fn parse_table(text: &'static str) -> Table {
    let mut table: Table = BTreeMap::new();
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    for row in reader.deserialize::<Named>() {
        let row = row.expect("shipped code table is valid");
        table.entry(row.code.clone()).or_default().push(row);
    }
    table
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn snapshot_counts_match_the_sources_file() {
        // SOURCES.md lists these counts as checked against SSB's own lists.
        assert_eq!(municipalities_on(d("2007-01-01")).len(), 431);
        assert_eq!(municipalities_on(d("2020-01-01")).len(), 356);
        assert_eq!(municipalities_on(d("2024-01-01")).len(), 357);
        assert_eq!(wards_on(d("2007-01-01")).len(), 17);
    }

    #[test]
    fn names_follow_the_date() {
        let snasa = UnitCode::parse("1736").unwrap();
        assert_eq!(snasa.name_on(d("2008-06-01")), Some("Snåsa"));
        assert_eq!(snasa.name_on(d("2012-06-01")), Some("Snåase - Snåsa"));
        // Merged into Trøndelag's 5036 in 2018.
        assert_eq!(snasa.name_on(d("2018-06-01")), None);
        let oslo = CountyCode::parse("03").unwrap();
        assert_eq!(oslo.name_on(d("2007-12-31")), "Oslo");
        assert_eq!(
            CountyCode::parse("30").unwrap().name_on(d("2007-06-01")),
            "Viken"
        );
    }

    #[test]
    fn unit_numbers_are_checked() {
        assert!(UnitCode::parse("0301").is_ok());
        assert!(UnitCode::parse("030101").is_ok());
        assert!(UnitCode::parse("4601").is_ok());
        assert_eq!(
            UnitCode::parse("2101").unwrap_err().to_string(),
            "unit `2101`: 21 is not a county number in Statistics Norway's table since 2007"
        );
        assert!(UnitCode::parse("0302").is_ok());
        for bad in ["301", "03011", "040101", "03a1", "", "030101 "] {
            assert!(
                matches!(UnitCode::parse(bad), Err(UnitCodeError::Malformed(_))),
                "{bad}"
            );
        }
        let ward = UnitCode::parse("030105").unwrap();
        assert!(ward.is_ward());
        assert_eq!(ward.county().as_str(), "03");
        assert_eq!(ward.name_on(d("2007-01-01")), Some("Frogner"));
    }

    #[test]
    fn every_municipality_county_prefix_is_its_county_column() {
        for (code, rows) in &tables().municipalities {
            for row in rows {
                assert_eq!(Some(&code[..2]), row.county.as_deref(), "{code}");
            }
        }
    }
}
