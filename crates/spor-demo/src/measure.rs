//! Measures (tiltak) in the individual plan: Norwegian for the whole
//! programme, social studies early on, and one or two practice measures later,
//! each with its hours per week; now and then one entered with the wrong hours
//! and corrected.

use chrono::NaiveDate;
use rand::Rng;
use rand::seq::IndexedRandom;
use spor_domain::calendar::add_days;
use spor_domain::event::{EventBody, Hours, MeasureEnded, MeasureStarted};

use crate::life::{After, Planner, pick, weekday};

/// Norwegian for the whole programme, social studies early on, and one or
/// two practice measures later; every measure still running ends on `last`.
pub(crate) fn plan_measures<R: Rng>(p: &mut Planner<'_, R>, start: NaiveDate, last: NaiveDate) {
    let norwegian = pick(p.rng, &[(150, 2), (200, 3), (225, 2)]);
    measure(p, "NORSK", norwegian, start, last, last);
    let from = weekday(add_days(start, p.rng.random_range(7..=60)));
    let social = pick(p.rng, &[(30, 1), (40, 1)]);
    let to = add_days(from, p.rng.random_range(90..=150));
    measure(p, "SAMF", social, from, to, last);
    if p.rng.random_bool(0.85) {
        let (code, tenths) = practice(p.rng, None);
        let from = weekday(add_days(start, p.rng.random_range(240..=480)));
        let to = add_days(from, p.rng.random_range(90..=240));
        measure(p, code, tenths, from, to, last);
        if p.rng.random_bool(0.35) {
            let (second, tenths) = practice(p.rng, Some(code));
            let from = weekday(add_days(to, p.rng.random_range(7..=45)));
            let to = add_days(from, p.rng.random_range(60..=180));
            measure(p, second, tenths, from, to, last);
        }
    }
}

/// A measure from `from` to `to`, cut at `last`, now and then first entered
/// with the wrong hours, retracted and entered again.
fn measure<R: Rng>(
    p: &mut Planner<'_, R>,
    code: &str,
    tenths: u32,
    from: NaiveDate,
    to: NaiveDate,
    last: NaiveDate,
) {
    if from > last {
        return;
    }
    let started = |tenths| {
        EventBody::MeasureStarted(MeasureStarted {
            measure: code.to_owned(),
            hours_per_week: Hours::from_tenths(tenths),
        })
    };
    if p.rng.random_bool(0.02) {
        // 7.5 hours typed for 37.5, or a digit dropped.
        let wrong = if tenths > 100 { tenths / 5 } else { tenths * 5 };
        let mistake = p.decision(from, started(wrong));
        p.retract(mistake, from, WHY_MEASURE, After::Chain);
    }
    p.decision(from, started(tenths));
    p.decision(
        to.min(last),
        EventBody::MeasureEnded(MeasureEnded {
            measure: code.to_owned(),
        }),
    );
}

/// A practice measure other than `not`, with its usual hours per week (tenths).
fn practice(rng: &mut impl Rng, not: Option<&str>) -> (&'static str, u32) {
    loop {
        let (code, hours) = *PRACTICE.choose(rng).expect("the list is not empty");
        if Some(code) != not {
            return (code, *hours.choose(rng).expect("every measure has hours"));
        }
    }
}

/// Practice measures (tiltak) and their usual hours per week, in tenths.
const PRACTICE: &[(&str, &[u32])] = &[
    ("SPRAKPRAKSIS", &[150, 200, 225]),
    ("ARBEIDSPRAKSIS", &[200, 300, 375]),
    ("AMO", &[300, 375]),
    ("GRUNNSKOLE", &[150, 200, 250]),
    ("FORBEREDENDE_VGS", &[200, 250]),
    ("JOBBSOK", &[75, 150]),
];

const WHY_MEASURE: &str = "Feil timetall per uke; tiltaket er ført på nytt med riktig timetall";
