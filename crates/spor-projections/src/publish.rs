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
use std::fmt;

use serde::Serialize;
use serde::ser::SerializeMap;
use spor_domain::{CountyCode, UnitCode};

use crate::Projections;
use crate::survey::{Contribution, Grouping, Question, SizeClass, SurveyRequest, by_unit};

/// A count a published row holds beside the 22 answers: the counts the
/// indicators and the one-year result are built from, suppressed with the
/// answers so that no indicator gives a null away.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Derived {
    /// Ordinary work + wage subsidy (q10a + q11a).
    Work,
    /// Upper secondary + higher education (q9a + q9b).
    Education,
    /// Work + education.
    WorkOrEducation,
    /// Ended after two years, neither under (q5) nor granted over (q6).
    TwoYears,
    /// Exits with at least one kind of support.
    AnySupport,
    /// Exits with none (q4 − any_support).
    NoSupport,
    /// One-year result: ended as job seekers.
    OneYearJobseekers,
    /// One-year result: reached by the 12-month contact.
    OneYearReached,
    /// One-year result: of those reached, in work or education.
    OneYearWorkOrEducation,
    /// One-year result: not reached.
    OneYearNotReached,
    /// One-year result: the 12-month window is still open.
    OneYearPending,
}

impl Derived {
    /// Every derived count, in the order of a row's cells.
    pub const ALL: [Derived; 11] = {
        use Derived::*;
        [
            Work,
            Education,
            WorkOrEducation,
            TwoYears,
            AnySupport,
            NoSupport,
            OneYearJobseekers,
            OneYearReached,
            OneYearWorkOrEducation,
            OneYearNotReached,
            OneYearPending,
        ]
    };

    /// The key tests, audits and the report's `data-key` name it by.
    pub const fn key(self) -> &'static str {
        match self {
            Derived::Work => "work",
            Derived::Education => "education",
            Derived::WorkOrEducation => "work_or_education",
            Derived::TwoYears => "two_years",
            Derived::AnySupport => "any_support",
            Derived::NoSupport => "no_support",
            Derived::OneYearJobseekers => "one_year_jobseekers",
            Derived::OneYearReached => "one_year_reached",
            Derived::OneYearWorkOrEducation => "one_year_work_or_education",
            Derived::OneYearNotReached => "one_year_not_reached",
            Derived::OneYearPending => "one_year_pending",
        }
    }

    /// The count's place among the derived counts, in [`Derived::ALL`].
    const fn index(self) -> usize {
        // A fieldless enum's discriminant is its place in the declaration,
        // which is `Derived::ALL`'s order (checked at compile time below).
        self as usize
    }

    /// The count in one row's contribution.
    fn of(self, c: &Contribution) -> u64 {
        let (a, o) = (&c.answers, &c.one_year);
        match self {
            Derived::Work => a.q10a + a.q11a,
            Derived::Education => a.q9a + a.q9b,
            Derived::WorkOrEducation => a.q10a + a.q11a + a.q9a + a.q9b,
            Derived::TwoYears => a.q4 - a.q5 - a.q6,
            Derived::AnySupport => c.any_support,
            Derived::NoSupport => a.q4 - c.any_support,
            Derived::OneYearJobseekers => o.jobseekers,
            Derived::OneYearReached => o.reached,
            Derived::OneYearWorkOrEducation => o.work_or_education,
            Derived::OneYearNotReached => o.not_reached,
            Derived::OneYearPending => o.pending,
        }
    }
}

/// One cell of a published row: an answer or a derived count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Cell {
    /// The answer to a question.
    Answer(Question),
    /// A count beside the answers.
    Derived(Derived),
}

impl Cell {
    /// Every cell of a row, answers first, in the order [`PublishedRow::cells`] gives.
    pub fn all() -> impl Iterator<Item = Cell> {
        Question::ALL
            .into_iter()
            .map(Cell::Answer)
            .chain(Derived::ALL.into_iter().map(Cell::Derived))
    }

    /// The key: the question's (`q4`) or the derived count's (`work`).
    pub const fn key(self) -> &'static str {
        match self {
            Cell::Answer(q) => q.key(),
            Cell::Derived(d) => d.key(),
        }
    }

    /// The cell's place in a row: the answers in questionnaire order, then
    /// the derived counts in [`Derived::ALL`] order.
    const fn index(self) -> usize {
        match self {
            Cell::Answer(q) => q.index(),
            Cell::Derived(d) => Question::ALL.len() + d.index(),
        }
    }
}

// `Cell::index` reads `Derived::ALL` by position.
const _: () = {
    let mut i = 0;
    while i < Derived::ALL.len() {
        assert!(
            Derived::ALL[i].index() == i,
            "Derived::ALL is in declaration order"
        );
        i += 1;
    }
};

impl From<Question> for Cell {
    fn from(q: Question) -> Self {
        Cell::Answer(q)
    }
}

impl From<Derived> for Cell {
    fn from(d: Derived) -> Self {
        Cell::Derived(d)
    }
}

impl fmt::Display for Derived {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.key())
    }
}

impl fmt::Display for Cell {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.key())
    }
}

/// The cells of a row.
const CELLS: usize = Question::ALL.len() + Derived::ALL.len();

/// The within-row relations: (total, parts).
fn row_relations() -> Vec<(usize, Vec<usize>)> {
    use Question::*;
    let c = |cell: Cell| cell.index();
    let q = |q: Question| c(Cell::Answer(q));
    let d = |d: Derived| c(Cell::Derived(d));
    vec![
        (q(Q1), vec![q(Q2), q(Q4)]),
        (q(Q4), Question::EXIT_MIX.into_iter().map(q).collect()),
        (q(Q4), vec![q(Q5), q(Q6), d(Derived::TwoYears)]),
        (q(Q4), vec![d(Derived::AnySupport), d(Derived::NoSupport)]),
        (d(Derived::Work), vec![q(Q10a), q(Q11a)]),
        (d(Derived::Education), vec![q(Q9a), q(Q9b)]),
        (
            d(Derived::WorkOrEducation),
            vec![d(Derived::Work), d(Derived::Education)],
        ),
        (
            d(Derived::OneYearJobseekers),
            vec![
                d(Derived::OneYearReached),
                d(Derived::OneYearNotReached),
                d(Derived::OneYearPending),
            ],
        ),
    ]
}

fn values(c: &Contribution) -> [u64; CELLS] {
    let mut v = [0u64; CELLS];
    for cell in Cell::all() {
        v[cell.index()] = match cell {
            Cell::Answer(q) => c.answers.get(q),
            Cell::Derived(d) => d.of(c),
        };
    }
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
    /// A published count: an answer (`Question::Q4`) or a derived count
    /// (`Derived::Work`); `None` where suppressed.
    pub fn get(&self, cell: impl Into<Cell>) -> Option<u64> {
        self.cells[cell.into().index()]
    }

    /// Every cell with its value, answers first.
    pub fn cells(&self) -> impl Iterator<Item = (Cell, Option<u64>)> + '_ {
        Cell::all().map(|c| (c, self.get(c)))
    }

    fn share(&self, part: Derived, whole: impl Into<Cell>) -> Option<f64> {
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
                let mut m = s.serialize_map(Some(Question::ALL.len()))?;
                for q in Question::ALL {
                    m.serialize_entry(q.key(), &self.0.get(q))?;
                }
                m.end()
            }
        }
        let r = self;
        let indicators = serde_json::json!({
            "work": r.get(Derived::Work),
            "education": r.get(Derived::Education),
            "work_or_education": r.get(Derived::WorkOrEducation),
            "work_or_education_share": r.share(Derived::WorkOrEducation, Question::Q4),
            "under_two_years": r.get(Question::Q5),
            "two_years": r.get(Derived::TwoYears),
            "over_two_years": r.get(Question::Q6),
            "any_support": r.get(Derived::AnySupport),
            "no_support": r.get(Derived::NoSupport),
        });
        let one_year = serde_json::json!({
            "jobseekers": r.get(Derived::OneYearJobseekers),
            "reached": r.get(Derived::OneYearReached),
            "work_or_education": r.get(Derived::OneYearWorkOrEducation),
            "not_reached": r.get(Derived::OneYearNotReached),
            "pending": r.get(Derived::OneYearPending),
            "share": r.share(Derived::OneYearWorkOrEducation, Derived::OneYearJobseekers),
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
    let pick = open
        .clone()
        .filter(|c| values[*c] > 0)
        .min_by_key(|c| values[*c])
        .or_else(|| open.min_by_key(|c| values[*c]));
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
            out.push(
                std::iter::once(total)
                    .chain(parts)
                    .map(|c| row * CELLS + c)
                    .collect(),
            );
        }
    }
    // A grouping row is the sum of its member rows, cell by cell.
    let mut sums = |total: usize, members: &[usize]| {
        for c in 0..CELLS {
            out.push(
                std::iter::once(total)
                    .chain(members.iter().copied())
                    .map(|r| r * CELLS + c)
                    .collect(),
            );
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
        sums(
            nation,
            &(units + counties.len()..nation).collect::<Vec<_>>(),
        );
    }
    out
}

/// Computes the suppression pattern over units, counties and nation together.
pub fn publish_all(
    projections: &Projections,
    request: &SurveyRequest,
    up_to: u64,
) -> PublishedTables {
    let year_end =
        chrono::NaiveDate::from_ymd_opt(request.year, 12, 31).unwrap_or(chrono::NaiveDate::MAX);
    let units: BTreeMap<UnitCode, [u64; CELLS]> =
        by_unit(projections, request.year, request.known_at, request.as_of)
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
    let class_of = |v: &[u64; CELLS]| match SizeClass::of(v[Cell::Answer(Question::Q1).index()]) {
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
    let class_row = |k: u8| {
        unit_keys.len() + county_keys.len() + class_keys.iter().position(|c| *c == k).unwrap_or(0)
    };
    let county_row =
        |k: CountyCode| unit_keys.len() + county_keys.iter().position(|c| *c == k).unwrap_or(0);
    let members_of = |keep: &dyn Fn(usize) -> bool| {
        (0..unit_keys.len())
            .filter(|i| keep(*i))
            .collect::<Vec<usize>>()
    };
    let county_members: Vec<Vec<usize>> = county_keys
        .iter()
        .map(|k| members_of(&|i| unit_keys[i].county() == *k))
        .collect();
    let class_members: Vec<Vec<usize>> = class_keys
        .iter()
        .map(|k| members_of(&|i| class_of(&unit_values[i]) == *k))
        .collect();
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
                crate::audit::Exposure::SingletonPair { cell, singleton } => {
                    (cell, Some(singleton))
                }
            };
            // One more suppressed cell in every relation the exposed cell is
            // in, so that whichever relation pins it has a cell to absorb a
            // change. Where those relations are suppressed whole, the pin
            // comes from further out: look at the relations of their cells,
            // and so on, until some relation has a published cell.
            let mut frontier = vec![cell];
            let mut seen_cells: std::collections::HashSet<usize> =
                frontier.iter().copied().collect();
            let mut seen_relations: std::collections::HashSet<usize> =
                std::collections::HashSet::new();
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
                frontier = near
                    .iter()
                    .flat_map(|r| flat[*r].iter().copied())
                    .filter(|c| seen_cells.insert(*c))
                    .collect();
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
            .map(|k| {
                published(
                    county_row(*k),
                    k.to_string(),
                    Some(k.name_on(year_end).to_owned()),
                )
            })
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
        class_members: class_members
            .iter()
            .map(|m| m.iter().map(|i| unit_keys[*i].to_string()).collect())
            .collect(),
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
    Published {
        year: request.year,
        by: request.by,
        suppressed_up_to: up_to,
        rows,
        total: all.nation,
    }
}

/// The rows of the published tables in one list: units, counties, size
/// classes, then the nation (the order [`relation_cells`] numbers them in).
pub fn rows_of(t: &PublishedTables) -> Vec<&PublishedRow> {
    t.units
        .iter()
        .chain(&t.counties)
        .chain(&t.size_classes)
        .chain([&t.nation])
        .collect()
}

/// Every relation of the published tables as lists of cells (a row of
/// [`rows_of`] and a cell), the total first (for tests and audits).
pub fn relation_cells(t: &PublishedTables) -> Vec<Vec<(usize, Cell)>> {
    let cells: Vec<Cell> = Cell::all().collect();
    let units = &t.units;
    let members = |keep: &dyn Fn(&str) -> bool| {
        (0..units.len())
            .filter(|i| keep(&units[*i].code))
            .collect::<Vec<usize>>()
    };
    let counties: Vec<Vec<usize>> = t
        .counties
        .iter()
        .map(|k| members(&|u| u.starts_with(&k.code)))
        .collect();
    let classes: Vec<Vec<usize>> = t
        .class_members
        .iter()
        .map(|m| members(&|u| m.iter().any(|code| code == u)))
        .collect();
    relations(units.len(), &counties, &classes)
        .into_iter()
        .map(|r| {
            r.into_iter()
                .map(|c| (c / CELLS, cells[c % CELLS]))
                .collect()
        })
        .collect()
}

/// Every relation of the published tables as lists of published values, the
/// total first (for tests and audits).
pub fn relations_of(t: &PublishedTables) -> Vec<Vec<Option<u64>>> {
    let rows = rows_of(t);
    relation_cells(t)
        .into_iter()
        .map(|r| {
            r.into_iter()
                .map(|(row, cell)| rows[row].get(cell))
                .collect()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `relation_cells` names a cell by its place in `Cell::all()`, and the
    /// rows store it at `Cell::index`: the two orders must be one.
    #[test]
    fn every_cell_has_its_own_place_in_the_order_of_cells() {
        let all: Vec<Cell> = Cell::all().collect();
        assert_eq!(all.len(), CELLS);
        for (i, c) in all.iter().enumerate() {
            assert_eq!(c.index(), i, "{c}");
        }
        let mut keys: Vec<&str> = all.iter().map(|c| c.key()).collect();
        keys.sort_unstable();
        keys.dedup();
        assert_eq!(keys.len(), CELLS, "every key names one cell");
    }
}
