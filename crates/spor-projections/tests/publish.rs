//! Publication with suppression (contract §2 `--publish`; reliability P1,
//! P2): over random logs, no count from 1 to the threshold is published, no
//! null can be recomputed by subtraction along any relation, no null is
//! pinned down by all relations together (a linear-programming audit written
//! here, apart from the one publication runs), and every published figure is
//! the true one.

#![allow(clippy::unwrap_used)] // in a test, a failed unwrap is a failed test, with its line

mod common;

use common::{d, demo};
use microlp::{ComparisonOp, OptimizationDirection, Problem};
use proptest::prelude::*;
use spor_projections::publish::{
    Cell, PublishedTables, publish_all, relation_cells, relations_of, rows_of,
};
use spor_projections::survey::{Grouping, SurveyRequest, survey};

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
    let request = SurveyRequest {
        year: 2006,
        by: Grouping::Unit,
        known_at: None,
        as_of: d("2030-01-01"),
    };
    let tables = publish_all(&p, &request, 4);
    let json = serde_json::to_value(&tables.units).unwrap();
    for row in json.as_array().unwrap() {
        let share = &row["indicators"]["work_or_education_share"];
        if row["answers"]["q4"].is_null() || row["indicators"]["work_or_education"].is_null() {
            assert!(share.is_null(), "{row}");
        }
    }
}

/// The least and greatest value a suppressed cell can take, given every
/// published count and relation, and counts between 0 and the largest true
/// count. `truth` holds the same tables unsuppressed.
fn intervals(tables: &PublishedTables, truth: &PublishedTables) -> Vec<((usize, Cell), f64, f64)> {
    let rows = rows_of(tables);
    let true_rows = rows_of(truth);
    let relations = relation_cells(tables);
    let mut nulls: Vec<(usize, Cell)> = Vec::new();
    for (i, row) in rows.iter().enumerate() {
        for (key, v) in row.cells() {
            if v.is_none() {
                nulls.push((i, key));
            }
        }
    }
    #[allow(clippy::cast_precision_loss)]
    let ceiling = true_rows
        .iter()
        .flat_map(|r| r.cells())
        .filter_map(|(_, v)| v)
        .max()
        .unwrap_or(0) as f64;
    let mut out = Vec::new();
    for target in &nulls {
        let mut range = [0.0; 2];
        for (k, direction) in [
            OptimizationDirection::Minimize,
            OptimizationDirection::Maximize,
        ]
        .into_iter()
        .enumerate()
        {
            let mut problem = Problem::new(direction);
            let vars: Vec<_> = nulls
                .iter()
                .map(|c| problem.add_var(if c == target { 1.0 } else { 0.0 }, (0.0, ceiling)))
                .collect();
            for r in &relations {
                let mut expr = Vec::new();
                let mut rhs = 0.0;
                for (i, (row, key)) in r.iter().enumerate() {
                    let sign = if i == 0 { -1.0 } else { 1.0 };
                    match rows[*row].get(*key) {
                        #[allow(clippy::cast_precision_loss)]
                        Some(v) => rhs -= sign * v as f64,
                        None => expr.push((
                            vars[nulls.iter().position(|c| c == &(*row, *key)).unwrap()],
                            sign,
                        )),
                    }
                }
                if !expr.is_empty() {
                    problem.add_constraint(expr.as_slice(), ComparisonOp::Eq, rhs);
                }
            }
            range[k] = match problem.solve() {
                Ok(outcome) => outcome.solution().expect("solved to the end").objective(),
                Err(microlp::Error::Unbounded) => f64::INFINITY,
                Err(e) => panic!("the audit's program failed for {target:?}: {e:?}"),
            };
        }
        out.push((*target, range[0], range[1]));
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(12))]

    /// Reliability P2: for the tables published together (unit, county,
    /// size class and nation; every answer and indicator; one year), no
    /// suppressed cell has a feasibility interval holding a single whole
    /// number, and no relation's only two nulls (both parts) include a
    /// count of 1. Every null is bounded to 0..the largest count, not 1..k
    /// for primary ones: docs/contract-readings.md says why.
    #[test]
    fn no_null_is_pinned_down_by_every_relation_together(
        seed in 0u64..10_000,
        people in 10usize..120,
        year in 2005i32..=2008,
        up_to in 2u64..=5,
    ) {
        let p = demo(people, seed);
        let request = SurveyRequest { year, by: Grouping::Unit, known_at: None, as_of: d("2030-01-01") };
        let tables = publish_all(&p, &request, up_to);
        let truth = publish_all(&p, &request, 0);
        for ((row, key), low, high) in intervals(&tables, &truth) {
            let whole = (high + 1e-6).floor() - (low - 1e-6).ceil();
            prop_assert!(whole >= 1.0, "{} {} lies in [{}, {}]", rows_of(&tables)[row].code, key, low, high);
        }
        let true_rows = rows_of(&truth);
        for r in relation_cells(&tables) {
            let nulls: Vec<_> = r.iter().filter(|(row, key)| rows_of(&tables)[*row].get(*key).is_none()).collect();
            if let [a, b] = nulls[..] && a != &r[0] && b != &r[0] {
                let ones = [a, b].iter().filter(|(row, key)| true_rows[*row].get(*key) == Some(1)).count();
                prop_assert_eq!(ones, 0, "a singleton pair in {:?}", r);
            }
        }
    }
}
