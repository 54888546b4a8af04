//! Publication with suppression (contract §2 `--publish`; reliability P1):
//! over random logs, no count from 1 to the threshold is published, no null
//! can be recomputed by subtraction along any relation, and every published
//! figure is the true one.

mod common;

use common::d;
use proptest::prelude::*;
use spor_demo::DemoSpec;
use spor_projections::Projections;
use spor_projections::publish::{publish_all, relations_of};
use spor_projections::survey::{Grouping, SurveyRequest, survey};

fn demo(people: usize, seed: u64) -> Projections {
    let mut p = Projections::new();
    for (i, e) in spor_demo::generate(&DemoSpec { participants: people, seed }).into_iter().enumerate() {
        p.apply(u64::try_from(i).unwrap() + 1, e);
    }
    p
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(16))]

    #[test]
    fn no_small_count_is_published_and_no_null_can_be_recomputed(
        seed in 0u64..10_000,
        people in 10usize..200,
        year in 2005i32..=2008,
        up_to in 1u64..=5,
    ) {
        let p = demo(people, seed);
        let request = SurveyRequest { year, by: Grouping::Unit, known_at: None, as_of: d("2030-01-01") };
        let tables = publish_all(&p, &request, up_to);
        let rows: Vec<_> = tables.units.iter().chain(&tables.counties).chain(&tables.size_classes).chain([&tables.nation]).collect();
        for row in &rows {
            for (key, value) in row.cells() {
                if let Some(n) = value {
                    prop_assert!(n == 0 || n > up_to, "{} {} = {} is published", row.code, key, n);
                }
            }
        }
        for (i, relation) in relations_of(&tables).iter().enumerate() {
            let nulls = relation.iter().filter(|v| v.is_none()).count();
            prop_assert!(nulls != 1, "relation {} has exactly one null: {:?}", i, relation);
        }
        // Every published figure is the true one.
        let truth = survey(&p, &request);
        for (published, actual) in tables.units.iter().zip(&truth.rows) {
            prop_assert_eq!(&published.code, &actual.code);
            for (key, n) in actual.answers.values() {
                if let Some(shown) = published.get(key) {
                    prop_assert_eq!(shown, n);
                }
            }
        }
        // Suppression happens where it must (and so the test is not vacuous
        // whenever any small count exists).
        let small = truth.rows.iter().any(|r| r.answers.values().iter().any(|(_, n)| (1..=up_to).contains(n)));
        let hidden = tables.units.iter().any(|r| r.cells().any(|(_, v)| v.is_none()));
        prop_assert_eq!(small, small && hidden);
    }
}

#[test]
fn a_published_share_is_null_when_its_counts_are() {
    // 12 people in many units: nearly every unit count is small.
    let p = demo(12, 7);
    let request = SurveyRequest { year: 2006, by: Grouping::Unit, known_at: None, as_of: d("2030-01-01") };
    let tables = publish_all(&p, &request, 4);
    let json = serde_json::to_value(&tables.units).unwrap();
    for row in json.as_array().unwrap() {
        let share = &row["indicators"]["work_or_education_share"];
        if row["answers"]["q4"].is_null() || row["indicators"]["work_or_education"].is_null() {
            assert!(share.is_null(), "{row}");
        }
    }
}
