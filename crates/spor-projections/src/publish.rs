//! Publication of the survey with small counts suppressed (contract §2,
//! `--publish`), so that no count singles out a person.
//!
//! Every count from 1 to the threshold is replaced by `null` (primary
//! suppression). Then, until nothing changes, every relation that the
//! published figures obey (a total and its parts) is checked: if exactly one
//! of its cells is `null`, that cell could be recomputed by subtraction, so
//! one more cell of the relation is suppressed as well (secondary
//! suppression), the smallest non-zero one. The relations are those of
//! contract §2 (q1 = q2 + q4, q4 = q7a + … + q12c, a county = the sum of its
//! units, the nation = the sum of its counties) and those the indicators add
//! (work = q10a + q11a, …). The pattern is computed over units, counties,
//! size classes and the nation together, so tables published at different
//! levels for the same year agree. An indicator built from a suppressed
//! count is `null` too.
//!
//! Subtraction along one relation is not the only way back to a null: the
//! relations together can pin one down, and a person counted alone in one
//! of a relation's two nulls can subtract themselves. So the pattern is then
//! audited ([`crate::audit`], linear programs over every relation at once),
//! and each exposed cell gets one more suppressed cell in every relation
//! around it (or, where those are suppressed whole, further out), until the
//! audit finds nothing. Units of 0-1 participants form no published size
//! class: such a class would tell that each member's q1 is 1.

use std::collections::BTreeMap;

use serde::Serialize;
use serde::ser::SerializeMap;
use spor_domain::{CountyCode, UnitCode};

use crate::Projections;
use crate::survey::{Contribution, Grouping, QUESTIONS, SizeClass, SurveyRequest, by_unit};

/// Cells of a row beyond the 22 answers: counts the indicators publish.
const EXTRA: [&str; 11] = [
    "work",
    "education",
    "work_or_education",
    "two_years",
    "any_support",
    "no_support",
    "one_year_jobseekers",
    "one_year_reached",
    "one_year_work_or_education",
    "one_year_not_reached",
    "one_year_pending",
];

const CELLS: usize = 22 + EXTRA.len();

fn cell(name: &str) -> usize {
    QUESTIONS
        .iter()
        .map(|(k, _)| *k)
        .chain(EXTRA)
        .position(|k| k == name)
        .expect("a relation names only known cells")
}

/// The within-row relations: (total, parts).
fn row_relations() -> Vec<(usize, Vec<usize>)> {
    let c = cell;
    let activity = ["q7a", "q7b", "q7c", "q8a", "q8b", "q9a", "q9b", "q10a", "q11a", "q11b", "q12a", "q12b", "q12c"];
    vec![
        (c("q1"), vec![c("q2"), c("q4")]),
        (c("q4"), activity.iter().map(|k| c(k)).collect()),
        (c("q4"), vec![c("q5"), c("q6"), c("two_years")]),
        (c("q4"), vec![c("any_support"), c("no_support")]),
        (c("work"), vec![c("q10a"), c("q11a")]),
        (c("education"), vec![c("q9a"), c("q9b")]),
        (c("work_or_education"), vec![c("work"), c("education")]),
        (
            c("one_year_jobseekers"),
            vec![c("one_year_reached"), c("one_year_not_reached"), c("one_year_pending")],
        ),
    ]
}

fn values(c: &Contribution) -> [u64; CELLS] {
    let a = &c.answers;
    let mut v = [0u64; CELLS];
    for (i, (_, n)) in a.values().iter().enumerate() {
        v[i] = *n;
    }
    let o = &c.one_year;
    let extra = [
        a.q10a + a.q11a,
        a.q9a + a.q9b,
        a.q10a + a.q11a + a.q9a + a.q9b,
        a.q4 - a.q5 - a.q6,
        c.any_support,
        a.q4 - c.any_support,
        o.jobseekers,
        o.reached,
        o.work_or_education,
        o.not_reached,
        o.pending,
    ];
    v[22..].copy_from_slice(&extra);
    v
}

/// A published row: every count, `None` where suppressed.
#[derive(Debug, Clone, PartialEq)]
pub struct PublishedRow {
    pub code: String,
    pub name: Option<String>,
    cells: [Option<u64>; CELLS],
}

impl PublishedRow {
    /// A published count by its key (`q1`, `work`, `one_year_reached`, …).
    pub fn get(&self, key: &str) -> Option<u64> {
        self.cells[cell(key)]
    }

    /// Every cell as (key, value), answers first.
    pub fn cells(&self) -> impl Iterator<Item = (&'static str, Option<u64>)> + '_ {
        QUESTIONS.iter().map(|(k, _)| *k).chain(EXTRA).zip(self.cells.iter().copied())
    }

    fn share(&self, part: &str, whole: &str) -> Option<f64> {
        let (p, w) = (self.get(part)?, self.get(whole)?);
        #[allow(clippy::cast_precision_loss)] // counts far below 2^52
        (w > 0).then(|| p as f64 / w as f64)
    }
}

impl Serialize for PublishedRow {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        struct Answers<'a>(&'a PublishedRow);
        impl Serialize for Answers<'_> {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                let mut m = s.serialize_map(Some(22))?;
                for (k, v) in self.0.cells().take(22) {
                    m.serialize_entry(k, &v)?;
                }
                m.end()
            }
        }
        let r = self;
        let indicators = serde_json::json!({
            "work": r.get("work"),
            "education": r.get("education"),
            "work_or_education": r.get("work_or_education"),
            "work_or_education_share": r.share("work_or_education", "q4"),
            "under_two_years": r.get("q5"),
            "two_years": r.get("two_years"),
            "over_two_years": r.get("q6"),
            "any_support": r.get("any_support"),
            "no_support": r.get("no_support"),
        });
        let one_year = serde_json::json!({
            "jobseekers": r.get("one_year_jobseekers"),
            "reached": r.get("one_year_reached"),
            "work_or_education": r.get("one_year_work_or_education"),
            "not_reached": r.get("one_year_not_reached"),
            "pending": r.get("one_year_pending"),
            "share": r.share("one_year_work_or_education", "one_year_jobseekers"),
        });
        let mut m = s.serialize_map(Some(5))?;
        m.serialize_entry("code", &r.code)?;
        m.serialize_entry("name", &r.name)?;
        m.serialize_entry("answers", &Answers(r))?;
        m.serialize_entry("indicators", &indicators)?;
        m.serialize_entry("one_year", &one_year)?;
        m.end()
    }
}

/// The published survey of one level, with its total.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Published {
    pub year: i32,
    pub by: Grouping,
    /// Counts from 1 to this were suppressed.
    pub suppressed_up_to: u64,
    pub rows: Vec<PublishedRow>,
    pub total: PublishedRow,
}

/// Every row of every level, suppressed together.
#[derive(Debug, Clone)]
pub struct PublishedTables {
    pub units: Vec<PublishedRow>,
    pub counties: Vec<PublishedRow>,
    /// The units grouped by size class (code `small`, `medium`, `large`; by
    /// the unit's q1), for the report's results by size. Units of 0-1
    /// participants (`single`) are in none.
    pub size_classes: Vec<PublishedRow>,
    /// Which units (codes) make up each size class, in `size_classes` order.
    pub class_members: Vec<Vec<String>>,
    pub nation: PublishedRow,
}

/// Adds one row's counts into a sum.
fn add_into(sum: &mut [u64; CELLS], v: &[u64; CELLS]) {
    for (s, x) in sum.iter_mut().zip(v) {
        *s += x;
    }
}

/// Suppresses one more cell of a relation (cells numbered `row * CELLS +
/// cell`): its smallest non-zero published cell, else its smallest. Returns
/// whether there was one to suppress.
fn hide_one(relation: &[usize], values: &[u64], hidden: &mut [bool]) -> bool {
    let open = relation.iter().copied().filter(|c| !hidden[*c]);
    let pick = open.clone().filter(|c| values[*c] > 0).min_by_key(|c| values[*c]).or_else(|| open.min_by_key(|c| values[*c]));
    if let Some(c) = pick {
        hidden[c] = true;
    }
    pick.is_some()
}

/// Secondary suppression by relation: until nothing changes, a relation
/// with exactly one suppressed cell gets one more ([`hide_one`]).
fn close_pattern(values: &[u64], relations: &[Vec<usize>], hidden: &mut [bool]) {
    loop {
        let mut changed = false;
        for r in relations {
            if r.iter().filter(|c| hidden[**c]).count() == 1 {
                changed |= hide_one(r, values, hidden);
            }
        }
        if !changed {
            break;
        }
    }
}

/// Every relation the tables obey, as lists of cells numbered `row * CELLS +
/// cell`, the total first. The rows are `units` units, then one row per
/// county and one per size class (each the sum of the unit rows listed for
/// it), then the nation: the sum of the counties, and of the size classes
/// when they hold every unit.
fn relations(units: usize, counties: &[Vec<usize>], classes: &[Vec<usize>]) -> Vec<Vec<usize>> {
    let nation = units + counties.len() + classes.len();
    let mut out = Vec::new();
    for row in 0..=nation {
        for (total, parts) in row_relations() {
            out.push(std::iter::once(total).chain(parts).map(|c| row * CELLS + c).collect());
        }
    }
    // A grouping row is the sum of its member rows, cell by cell.
    let mut sums = |total: usize, members: &[usize]| {
        for c in 0..CELLS {
            out.push(std::iter::once(total).chain(members.iter().copied()).map(|r| r * CELLS + c).collect());
        }
    };
    for (k, members) in counties.iter().enumerate() {
        sums(units + k, members);
    }
    sums(nation, &(units..units + counties.len()).collect::<Vec<_>>());
    for (k, members) in classes.iter().enumerate() {
        sums(units + counties.len() + k, members);
    }
    if classes.iter().map(Vec::len).sum::<usize>() == units {
        sums(nation, &(units + counties.len()..nation).collect::<Vec<_>>());
    }
    out
}

/// Computes the suppression pattern over units, counties and nation together.
pub fn publish_all(projections: &Projections, request: &SurveyRequest, up_to: u64) -> PublishedTables {
    let year_end = chrono::NaiveDate::from_ymd_opt(request.year, 12, 31).unwrap_or(chrono::NaiveDate::MAX);
    let units: BTreeMap<UnitCode, [u64; CELLS]> = by_unit(projections, request.year, request.known_at, request.as_of)
        .into_iter()
        .map(|(u, c)| (u, values(&c)))
        .collect();
    let mut counties: BTreeMap<CountyCode, [u64; CELLS]> = BTreeMap::new();
    for (u, v) in &units {
        add_into(counties.entry(u.county()).or_insert([0; CELLS]), v);
    }
    let mut nation = [0u64; CELLS];
    for v in counties.values() {
        add_into(&mut nation, v);
    }
    // Units by size class: another grouping of the same units.
    let mut classes: BTreeMap<u8, [u64; CELLS]> = BTreeMap::new();
    let class_of = |v: &[u64; CELLS]| match SizeClass::of(v[0]) {
        SizeClass::Single => 0u8,
        SizeClass::Small => 1,
        SizeClass::Medium => 2,
        SizeClass::Large => 3,
    };
    // Units of 0-1 participants are not published as a class: every member's
    // q1 is then known to be 1, and the class total would count them.
    for v in units.values().filter(|v| class_of(v) != 0) {
        add_into(classes.entry(class_of(v)).or_insert([0; CELLS]), v);
    }
    // All rows in one list: units, counties, size classes, then the nation.
    let unit_keys: Vec<UnitCode> = units.keys().copied().collect();
    let county_keys: Vec<CountyCode> = counties.keys().copied().collect();
    let class_keys: Vec<u8> = classes.keys().copied().collect();
    let unit_values: Vec<[u64; CELLS]> = units.values().copied().collect();
    let mut table: Vec<[u64; CELLS]> = unit_values.clone();
    table.extend(counties.values().copied());
    table.extend(classes.values().copied());
    table.push(nation);
    let nation_row = table.len() - 1;
    let class_row = |k: u8| unit_keys.len() + county_keys.len() + class_keys.iter().position(|c| *c == k).unwrap_or(0);
    let county_row = |k: CountyCode| unit_keys.len() + county_keys.iter().position(|c| *c == k).unwrap_or(0);
    let members_of = |keep: &dyn Fn(usize) -> bool| (0..unit_keys.len()).filter(|i| keep(*i)).collect::<Vec<usize>>();
    let county_members: Vec<Vec<usize>> = county_keys.iter().map(|k| members_of(&|i| unit_keys[i].county() == *k)).collect();
    let class_members: Vec<Vec<usize>> = class_keys.iter().map(|k| members_of(&|i| class_of(&unit_values[i]) == *k)).collect();
    let flat = relations(unit_keys.len(), &county_members, &class_members);
    let values: Vec<u64> = table.iter().flatten().copied().collect();
    let mut hidden: Vec<bool> = values.iter().map(|v| (1..=up_to).contains(v)).collect();
    let mut relations_of_cell: Vec<Vec<usize>> = vec![Vec::new(); values.len()];
    for (i, r) in flat.iter().enumerate() {
        for c in r {
            relations_of_cell[*c].push(i);
        }
    }
    // The pattern, then the audit of it: while the audit finds a suppressed
    // cell the published tables pin down, suppress one more cell of a
    // relation it is in, and close the pattern again.
    loop {
        close_pattern(&values, &flat, &mut hidden);
        let exposed = crate::audit::exposures(&values, &hidden, &flat);
        let mut changed = false;
        for e in &exposed {
            let (cell, with) = match *e {
                crate::audit::Exposure::Interval { cell, .. } => (cell, None),
                crate::audit::Exposure::SingletonPair { cell, singleton } => (cell, Some(singleton)),
            };
            // One more suppressed cell in every relation the exposed cell is
            // in, so that whichever relation pins it has a cell to absorb a
            // change. Where those relations are suppressed whole, the pin
            // comes from further out: look at the relations of their cells,
            // and so on, until some relation has a published cell.
            let mut frontier = vec![cell];
            let mut seen_cells: std::collections::HashSet<usize> = frontier.iter().copied().collect();
            let mut seen_relations: std::collections::HashSet<usize> = std::collections::HashSet::new();
            while !frontier.is_empty() {
                let near: Vec<usize> = frontier
                    .iter()
                    .flat_map(|c| relations_of_cell[*c].iter().copied())
                    .filter(|r| seen_relations.insert(*r))
                    .filter(|r| with.is_none_or(|s| flat[*r].contains(&s)))
                    .collect();
                let mut hid = false;
                for r in &near {
                    hid |= hide_one(&flat[*r], &values, &mut hidden);
                }
                if hid {
                    changed = true;
                    break;
                }
                frontier = near.iter().flat_map(|r| flat[*r].iter().copied()).filter(|c| seen_cells.insert(*c)).collect();
            }
        }
        if !changed {
            break;
        }
    }
    let published = |row: usize, code: String, name: Option<String>| PublishedRow {
        code,
        name,
        cells: std::array::from_fn(|c| (!hidden[row * CELLS + c]).then_some(table[row][c])),
    };
    PublishedTables {
        units: unit_keys
            .iter()
            .enumerate()
            .map(|(i, u)| published(i, u.to_string(), u.name_on(year_end).map(str::to_owned)))
            .collect(),
        counties: county_keys
            .iter()
            .map(|k| published(county_row(*k), k.to_string(), Some(k.name_on(year_end).to_owned())))
            .collect(),
        size_classes: class_keys
            .iter()
            .map(|k| {
                let (code, name) = match k {
                    0 => ("single", "0-1 deltaker"),
                    1 => ("small", "2-39 deltakere"),
                    2 => ("medium", "40-99 deltakere"),
                    _ => ("large", "100 deltakere eller flere"),
                };
                published(class_row(*k), code.into(), Some(name.into()))
            })
            .collect(),
        class_members: class_members.iter().map(|m| m.iter().map(|i| unit_keys[*i].to_string()).collect()).collect(),
        nation: published(nation_row, "national".into(), Some("Hele landet".into())),
    }
}

/// The published survey at the level asked for.
pub fn publish(projections: &Projections, request: &SurveyRequest, up_to: u64) -> Published {
    let all = publish_all(projections, request, up_to);
    let rows = match request.by {
        Grouping::Unit => all.units,
        Grouping::County => all.counties,
        Grouping::National => vec![all.nation.clone()],
    };
    Published { year: request.year, by: request.by, suppressed_up_to: up_to, rows, total: all.nation }
}

/// The rows of the published tables in one list: units, counties, size
/// classes, then the nation (the order [`relation_cells`] numbers them in).
pub fn rows_of(t: &PublishedTables) -> Vec<&PublishedRow> {
    t.units.iter().chain(&t.counties).chain(&t.size_classes).chain([&t.nation]).collect()
}

/// Every relation of the published tables as lists of cells (a row of
/// [`rows_of`] and a key), the total first (for tests and audits).
pub fn relation_cells(t: &PublishedTables) -> Vec<Vec<(usize, &'static str)>> {
    let keys: Vec<&'static str> = QUESTIONS.iter().map(|(k, _)| *k).chain(EXTRA).collect();
    let units = &t.units;
    let members = |keep: &dyn Fn(&str) -> bool| (0..units.len()).filter(|i| keep(&units[*i].code)).collect::<Vec<usize>>();
    let counties: Vec<Vec<usize>> = t.counties.iter().map(|k| members(&|u| u.starts_with(&k.code))).collect();
    let classes: Vec<Vec<usize>> =
        t.class_members.iter().map(|m| members(&|u| m.iter().any(|code| code == u))).collect();
    relations(units.len(), &counties, &classes)
        .into_iter()
        .map(|r| r.into_iter().map(|c| (c / CELLS, keys[c % CELLS])).collect())
        .collect()
}

/// Every relation of the published tables as lists of published values, the
/// total first (for tests and audits).
pub fn relations_of(t: &PublishedTables) -> Vec<Vec<Option<u64>>> {
    let rows = rows_of(t);
    relation_cells(t).into_iter().map(|r| r.into_iter().map(|(row, key)| rows[row].get(key)).collect()).collect()
}
