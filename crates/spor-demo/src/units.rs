//! The units the demo settles people in (Oslo wards and municipalities in
//! eleven counties, large and small), each with its programme advisers, checked
//! once against the shipped code tables for the first and last day the demo
//! covers.

use std::sync::LazyLock;

use rand::Rng;
use spor_domain::UnitCode;
use spor_domain::codes::{municipalities_on, wards_on};

use crate::{FIRST_DAY, LAST_DAY};

/// The demo's units: number, relative number of people settled there, and
/// how many programme advisers the unit has. Oslo runs one programme per ward
/// (bydel), so Oslo appears as wards, never as 0301. The small municipalities
/// at the end give the size classes `small` and the suppression of counts
/// from 1 to 4 something to do.
const DEMO_UNITS: &[(&str, u32, usize)] = &[
    ("030101", 6, 2), // Gamle Oslo
    ("030102", 4, 2), // Grünerløkka
    ("030103", 3, 1), // Sagene
    ("030109", 4, 2), // Bjerke
    ("030110", 5, 2), // Grorud
    ("030111", 6, 2), // Stovner
    ("030112", 6, 2), // Alna
    ("030115", 6, 2), // Søndre Nordstrand
    ("1201", 12, 4),  // Bergen
    ("1601", 9, 3),   // Trondheim
    ("1103", 8, 3),   // Stavanger
    ("1001", 6, 2),   // Kristiansand
    ("0602", 6, 2),   // Drammen
    ("0106", 5, 2),   // Fredrikstad
    ("1902", 4, 2),   // Tromsø
    ("0219", 4, 2),   // Bærum
    ("0806", 3, 1),   // Skien
    ("1504", 3, 1),   // Ålesund
    ("1804", 3, 1),   // Bodø
    ("0403", 2, 1),   // Hamar
    ("0906", 2, 1),   // Arendal
    ("0517", 1, 1),   // Sel
    ("1401", 1, 1),   // Flora
    ("1703", 1, 1),   // Namsos
    ("1820", 1, 1),   // Alstahaug
    ("2030", 1, 1),   // Sør-Varanger
];

/// The first adviser number; "adviser-10" reads like a real user name where
/// "adviser-1" reads like a test.
const FIRST_ADVISER: usize = 10;

/// One unit of the demo.
pub(crate) struct Unit {
    pub code: UnitCode,
    weight: u32,
    /// The `by` of the unit's programme advisers ("adviser-17").
    pub advisers: Vec<String>,
}

/// Every unit of the demo, with the weights that spread people over them.
pub(crate) struct Units {
    pub list: Vec<Unit>,
    total_weight: u32,
}

/// Built once: the code tables are parsed on first use and the check below
/// reads them twice.
pub(crate) static UNITS: LazyLock<Units> = LazyLock::new(Units::build);

impl Units {
    fn build() -> Self {
        let valid_on = |day| {
            let mut codes: Vec<UnitCode> =
                municipalities_on(day).into_iter().map(|(c, _)| c).collect();
            codes.extend(wards_on(day).into_iter().map(|(c, _)| c));
            codes
        };
        let (first, last) = (valid_on(FIRST_DAY), valid_on(LAST_DAY));
        let mut next_adviser = FIRST_ADVISER;
        let list = DEMO_UNITS
            .iter()
            .map(|&(number, weight, adviser_count)| {
                let code = UnitCode::parse(number).expect("a demo unit number is well formed");
                // A unit that did not exist all through the demo's years would
                // give events the data-quality checks report: a defect here.
                assert!(
                    first.contains(&code) && last.contains(&code),
                    "demo unit {number} must be in the code table from {FIRST_DAY} to {LAST_DAY}"
                );
                let advisers = (next_adviser..next_adviser + adviser_count)
                    .map(|n| format!("adviser-{n}"))
                    .collect();
                next_adviser += adviser_count;
                Unit {
                    code,
                    weight,
                    advisers,
                }
            })
            .collect();
        let total_weight = DEMO_UNITS.iter().map(|&(_, w, _)| w).sum();
        Self { list, total_weight }
    }

    /// A unit, more often a large one.
    pub fn pick(&self, rng: &mut impl Rng) -> usize {
        let mut roll = rng.random_range(0..self.total_weight);
        for (i, unit) in self.list.iter().enumerate() {
            if roll < unit.weight {
                return i;
            }
            roll -= unit.weight;
        }
        unreachable!("the roll is below the sum of the weights")
    }

    /// A unit other than `not`: where someone who moves goes.
    pub fn pick_other(&self, rng: &mut impl Rng, not: usize) -> usize {
        loop {
            let i = self.pick(rng);
            if i != not {
                return i;
            }
        }
    }
}
