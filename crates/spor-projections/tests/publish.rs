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
    Cell, PublishedTables, Withheld, publish_all, relation_cells, relations_of, rows_of,
};
use spor_projections::survey::{Grouping, Question, SurveyRequest, survey};

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

/// `null` has one meaning, withheld: a share of a withheld count is `null`,
/// a share of nothing (q4 published as 0) is left out, and every other
/// share is there.
#[test]
fn a_published_share_is_null_when_its_counts_are_and_absent_when_it_is_of_nothing() {
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
    let (mut withheld, mut of_nothing) = (0, 0);
    for row in json.as_array().unwrap() {
        let indicators = row["indicators"].as_object().unwrap();
        let share = indicators.get("work_or_education_share");
        if row["answers"]["q4"] == 0 {
            assert!(share.is_none(), "{row}");
            of_nothing += 1;
        } else if row["answers"]["q4"].is_null() || row["indicators"]["work_or_education"].is_null()
        {
            assert_eq!(share, Some(&serde_json::Value::Null), "{row}");
            withheld += 1;
        } else {
            assert!(share.is_some_and(serde_json::Value::is_f64), "{row}");
        }
    }
    assert!(
        withheld > 0 && of_nothing > 0,
        "the log has both kinds: {withheld} withheld, {of_nothing} of nothing"
    );
}

/// A pattern to audit: every row's value per cell (`None` where withheld),
/// the relations between them, and the true counts.
struct Pattern {
    shown: Vec<Vec<Option<u64>>>,
    truth: Vec<Vec<u64>>,
    relations: Vec<Vec<(usize, usize)>>,
}

impl Pattern {
    /// The pattern as published, with the true counts looked up by row code
    /// (`truth` is the same log published with nothing withheld).
    fn of(tables: &PublishedTables, truth: &PublishedTables) -> Self {
        let cells: Vec<Cell> = Cell::all().collect();
        let true_rows = rows_of(truth);
        let rows = rows_of(tables);
        let shown = rows
            .iter()
            .map(|r| r.cells().map(|(_, v)| v).collect())
            .collect();
        let truth = rows
            .iter()
            .map(|r| {
                let t = true_rows
                    .iter()
                    .find(|t| t.code == r.code)
                    .expect("the same rows");
                cells
                    .iter()
                    .map(|c| t.get(*c).expect("nothing withheld"))
                    .collect()
            })
            .collect();
        let relations = relation_cells(tables)
            .into_iter()
            .map(|r| {
                r.into_iter()
                    .map(|(row, cell)| (row, cells.iter().position(|c| *c == cell).unwrap()))
                    .collect()
            })
            .collect();
        Self {
            shown,
            truth,
            relations,
        }
    }

    /// The least and greatest value of every withheld cell of the rows
    /// `audited` picks, given every shown count and relation, and counts
    /// between 0 and the largest true count: (row, cell, low, high).
    fn intervals(&self, audited: impl Fn(usize) -> bool) -> Vec<(usize, usize, f64, f64)> {
        let nulls: Vec<(usize, usize)> = self
            .shown
            .iter()
            .enumerate()
            .flat_map(|(r, row)| {
                row.iter()
                    .enumerate()
                    .filter(|(_, v)| v.is_none())
                    .map(move |(c, _)| (r, c))
            })
            .collect();
        #[allow(clippy::cast_precision_loss)]
        let ceiling = self.truth.iter().flatten().copied().max().unwrap_or(0) as f64;
        let mut out = Vec::new();
        for target in nulls.iter().filter(|(row, _)| audited(*row)) {
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
                for r in &self.relations {
                    let mut expr = Vec::new();
                    let mut rhs = 0.0;
                    for (i, (row, cell)) in r.iter().enumerate() {
                        let sign = if i == 0 { -1.0 } else { 1.0 };
                        match self.shown[*row][*cell] {
                            #[allow(clippy::cast_precision_loss)]
                            Some(v) => rhs -= sign * v as f64,
                            None => expr.push((
                                vars[nulls.iter().position(|c| c == &(*row, *cell)).unwrap()],
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
            out.push((target.0, target.1, range[0], range[1]));
        }
        out
    }

    /// Relations whose only two withheld cells are parts, one of them a
    /// single person (who can subtract themselves).
    fn singleton_pairs(&self) -> Vec<&Vec<(usize, usize)>> {
        self.relations
            .iter()
            .filter(|r| {
                let nulls: Vec<&(usize, usize)> = r
                    .iter()
                    .filter(|(row, cell)| self.shown[*row][*cell].is_none())
                    .collect();
                matches!(nulls[..], [a, b] if a != &r[0] && b != &r[0]
                    && [a, b].iter().any(|(row, cell)| self.truth[*row][*cell] == 1))
            })
            .collect()
    }
}

/// Whether `[low, high]` holds one whole number at most.
fn pinned(low: f64, high: f64) -> bool {
    (high + 1e-6).floor() - (low - 1e-6).ceil() < 1.0
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
        let pattern = Pattern::of(&tables, &publish_all(&p, &request, 0));
        for (row, cell, low, high) in pattern.intervals(|_| true) {
            prop_assert!(!pinned(low, high), "{} {} lies in [{}, {}]", rows_of(&tables)[row].code, Cell::all().nth(cell).unwrap(), low, high);
        }
        let pairs = pattern.singleton_pairs();
        prop_assert!(pairs.is_empty(), "a singleton pair in {:?}", pairs[0]);
    }

    /// A national figure is withheld only where it must be: it is small
    /// itself, or a sensitive exit reason that is every exit, or no pattern
    /// without it protects the rest. For the last, the most protective
    /// pattern that publishes it (and every national figure that was
    /// published) is audited here: every non-zero unit, county and size
    /// class figure withheld. That pattern must still expose a withheld
    /// national figure, or the figure should have been published.
    #[test]
    fn no_national_figure_is_withheld_where_a_pattern_without_it_exists(
        seed in 0u64..10_000,
        people in 10usize..300,
        year in 2005i32..=2008,
        up_to in 2u64..=5,
    ) {
        let p = demo(people, seed);
        let request = SurveyRequest { year, by: Grouping::Unit, known_at: None, as_of: d("2030-01-01") };
        let tables = publish_all(&p, &request, up_to);
        let truth = publish_all(&p, &request, 0);
        let national = rows_of(&tables).len() - 1;
        let cells: Vec<Cell> = Cell::all().collect();
        let position = |cell: Cell| cells.iter().position(|c| *c == cell).unwrap();
        // Every withheld national figure is listed with its reason, and
        // nothing else is listed.
        let withheld: Vec<Cell> = tables.nation.cells().filter(|(_, v)| v.is_none()).map(|(c, _)| c).collect();
        let listed: Vec<Cell> = tables.withheld_totals.iter().map(|w| w.figure).collect();
        prop_assert_eq!(&withheld, &listed);
        for w in &tables.withheld_totals {
            let (cell, value) = (&w.figure, truth.nation.get(w.figure).unwrap());
            match w.why {
                Withheld::Small => prop_assert!((1..=up_to).contains(&value)),
                Withheld::EveryExit => prop_assert_eq!(value, truth.nation.get(Question::Q4).unwrap()),
                Withheld::Protects => {
                    let mut pattern = Pattern::of(&tables, &truth);
                    for (r, row) in pattern.shown.iter_mut().enumerate().take(national) {
                        for (c, v) in row.iter_mut().enumerate() {
                            if pattern.truth[r][c] > 0 {
                                *v = None;
                            }
                        }
                    }
                    pattern.shown[national][position(*cell)] = Some(value);
                    let exposed = pattern.intervals(|row| row == national).into_iter().any(|(_, _, low, high)| pinned(low, high))
                        || pattern.singleton_pairs().iter().any(|r| r.iter().all(|(row, _)| *row == national));
                    prop_assert!(exposed, "national {} = {} was withheld, but nothing is exposed without it", cell, value);
                }
            }
        }
    }

    /// Reliability P3: no published row shows a sensitive exit reason
    /// (death q7a, health q8a, behaviour q8b) as every exit of the row.
    #[test]
    fn no_row_shows_a_sensitive_reason_as_every_exit(
        seed in 0u64..10_000,
        people in 5usize..150,
        year in 2005i32..=2008,
    ) {
        let p = demo(people, seed);
        let request = SurveyRequest { year, by: Grouping::Unit, known_at: None, as_of: d("2030-01-01") };
        let tables = publish_all(&p, &request, 4);
        for row in rows_of(&tables) {
            for q in [Question::Q7a, Question::Q8a, Question::Q8b] {
                if let (Some(n), Some(exits)) = (row.get(q), row.get(Question::Q4)) {
                    prop_assert!(exits == 0 || n != exits, "{} shows {} = q4 = {}", row.code, q, exits);
                }
            }
        }
    }

    /// Reliability P5: a share is shown only when both counts it divides
    /// are, so no share gives a withheld count back.
    #[test]
    fn no_share_gives_a_withheld_count_back(
        seed in 0u64..10_000,
        people in 5usize..150,
        year in 2005i32..=2008,
    ) {
        let p = demo(people, seed);
        let request = SurveyRequest { year, by: Grouping::Unit, known_at: None, as_of: d("2030-01-01") };
        let tables = publish_all(&p, &request, 4);
        for row in rows_of(&tables) {
            let json = serde_json::to_value(row).unwrap();
            let pairs = [
                (&json["indicators"]["work_or_education_share"], &json["indicators"]["work_or_education"], &json["answers"]["q4"]),
                (&json["one_year"]["share"], &json["one_year"]["work_or_education"], &json["one_year"]["jobseekers"]),
            ];
            for (share, part, whole) in pairs {
                if !share.is_null() {
                    prop_assert!(!part.is_null() && !whole.is_null(), "{}: {}", row.code, json);
                }
            }
        }
    }
}

/// The issue's own example: on the demo log (500 people, seed 2007) the
/// 2007 national q1 (351) was withheld, with every other national figure.
/// It is published now, and the national row is the same whichever level
/// is asked for.
#[test]
fn the_demo_publishes_its_national_total_at_every_level() {
    let p = demo(500, 2007);
    let at = |by| {
        spor_projections::publish::publish(
            &p,
            &SurveyRequest {
                year: 2007,
                by,
                known_at: None,
                as_of: d("2030-01-01"),
            },
            4,
        )
    };
    let national = at(Grouping::National);
    assert_eq!(national.rows[0].get(Question::Q1), Some(351));
    let shown = |row: &spor_projections::publish::PublishedRow| row.cells().collect::<Vec<_>>();
    for by in [Grouping::County, Grouping::Unit] {
        assert_eq!(shown(&at(by).total), shown(&national.rows[0]), "{by:?}");
    }
    // Most national figures are published: only the small ones and what
    // protects them are not.
    let withheld = national.rows[0]
        .cells()
        .filter(|(_, v)| v.is_none())
        .count();
    assert!(withheld < 8, "{withheld} national figures withheld");
}

/// Every size class with members is either published or named as left
/// out, never silently missing; a published class sums its members.
#[test]
fn every_size_class_is_published_or_named_as_left_out() {
    use spor_projections::survey::SizeClass;
    for (people, seed, year) in [
        (500, 2007, 2007),
        (500, 2007, 2008),
        (60, 3, 2006),
        (2000, 11, 2007),
    ] {
        let p = demo(people, seed);
        let request = SurveyRequest {
            year,
            by: Grouping::Unit,
            known_at: None,
            as_of: d("2030-01-01"),
        };
        let tables = publish_all(&p, &request, 4);
        let truth = survey(&p, &request);
        let named = |class: SizeClass| match class {
            SizeClass::Small => Some(("small", "2–39 deltakere")),
            SizeClass::Medium => Some(("medium", "40–99 deltakere")),
            SizeClass::Large => Some(("large", "100 deltakere eller flere")),
            SizeClass::Single => None,
        };
        let mut with_members: Vec<(&str, &str)> = truth
            .rows
            .iter()
            .filter_map(|r| r.indicators.size_class.and_then(named))
            .collect();
        with_members.sort_unstable();
        with_members.dedup();
        for (code, name) in with_members {
            let shown = tables.size_classes.iter().position(|r| r.code == code);
            assert!(
                shown.is_some() != tables.left_out_classes.contains(&name),
                "{people}/{seed}/{year}: {code}"
            );
            if let Some(i) = shown {
                let members = &tables.class_members[i];
                let q1: u64 = truth
                    .rows
                    .iter()
                    .filter(|r| members.contains(&r.code))
                    .map(|r| r.answers.q1)
                    .sum();
                if let Some(shown_q1) = tables.size_classes[i].get(Question::Q1) {
                    assert_eq!(shown_q1, q1, "{code}");
                }
            }
        }
    }
}
