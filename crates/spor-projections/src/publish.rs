//! Publication of the survey with small counts suppressed (contract §2,
//! `--publish`), so that no count singles out a person, and no total that
//! singles out nobody is hidden.
//!
//! A count from 1 to the threshold is withheld (primary suppression), and
//! so is a sensitive exit reason (death, health, behaviour) that is every
//! exit of its row (reliability P3). Then further cells are withheld so
//! that none of those can be worked out (secondary suppression): no
//! relation the published figures obey (a total and its parts: q1 = q2 +
//! q4, q4 = q7a + … + q12c, a county = the sum of its units, the nation =
//! the sum of its counties, and the indicators' own sums) may have a single
//! withheld cell, and the audit ([`crate::audit`], linear programs over
//! every relation at once) may pin none down. Secondary suppression takes
//! units first, then counties; a national figure is withheld only when it
//! is small itself or no pattern without it exists, and
//! [`PublishedTables::withheld_totals`] says which and why ([`publish_all`]
//! has the steps). The pattern covers units, counties, size classes and the
//! nation together, so tables published at different levels for the same
//! year agree. An indicator built from a withheld count is `null` too.

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;
use serde::ser::SerializeMap;
use spor_domain::{CountyCode, UnitCode};

use crate::Projections;
use crate::pattern::{Grid, relations_of_cells};
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

    /// What the count is, in bokmål.
    pub const fn text(self) -> &'static str {
        match self {
            Derived::Work => "Arbeid (ordinært og lønnstilskudd)",
            Derived::Education => "Utdanning (videregående og høyere)",
            Derived::WorkOrEducation => "Arbeid eller utdanning",
            Derived::TwoYears => "Avsluttet etter to år",
            Derived::AnySupport => "Avsluttet med ytelse til livsopphold",
            Derived::NoSupport => "Avsluttet uten ytelse til livsopphold",
            Derived::OneYearJobseekers => "Ettårsresultat: avsluttet som arbeidssøkere",
            Derived::OneYearReached => "Ettårsresultat: nådd etter tolv måneder",
            Derived::OneYearWorkOrEducation => "Ettårsresultat: i arbeid eller utdanning",
            Derived::OneYearNotReached => "Ettårsresultat: ikke nådd",
            Derived::OneYearPending => "Ettårsresultat: tolv måneder er ikke gått",
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

    /// What the figure is, in bokmål: the questionnaire's wording for an answer.
    pub const fn text(self) -> &'static str {
        match self {
            Cell::Answer(q) => q.text(),
            Cell::Derived(d) => d.text(),
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

    /// A share of two published counts: `Shown(None)` where one is withheld
    /// (so the share is withheld too, reliability P5), `NotComputable` where
    /// the whole is 0.
    fn share(&self, part: Derived, whole: impl Into<Cell>) -> Share {
        match (self.get(part), self.get(whole)) {
            (_, Some(0)) => Share::NotComputable,
            #[allow(clippy::cast_precision_loss)] // counts far below 2^52
            (Some(p), Some(w)) => Share::Shown(Some(p as f64 / w as f64)),
            _ => Share::Shown(None),
        }
    }
}

/// A published share.
enum Share {
    /// The share, or `None` where a count it divides is withheld.
    Shown(Option<f64>),
    /// A share of nothing (the whole is 0).
    NotComputable,
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
        // `null` means withheld; a share of nothing is left out.
        let with_share = |mut v: serde_json::Value, key: &str, share: Share| {
            if let (Some(m), Share::Shown(s)) = (v.as_object_mut(), share) {
                m.insert(key.into(), serde_json::json!(s));
            }
            v
        };
        let indicators = with_share(
            serde_json::json!({
                "work": r.get(Derived::Work),
                "education": r.get(Derived::Education),
                "work_or_education": r.get(Derived::WorkOrEducation),
                "under_two_years": r.get(Question::Q5),
                "two_years": r.get(Derived::TwoYears),
                "over_two_years": r.get(Question::Q6),
                "any_support": r.get(Derived::AnySupport),
                "no_support": r.get(Derived::NoSupport),
            }),
            "work_or_education_share",
            r.share(Derived::WorkOrEducation, Question::Q4),
        );
        let one_year = with_share(
            serde_json::json!({
                "jobseekers": r.get(Derived::OneYearJobseekers),
                "reached": r.get(Derived::OneYearReached),
                "work_or_education": r.get(Derived::OneYearWorkOrEducation),
                "not_reached": r.get(Derived::OneYearNotReached),
                "pending": r.get(Derived::OneYearPending),
            }),
            "share",
            r.share(Derived::OneYearWorkOrEducation, Derived::OneYearJobseekers),
        );
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
    /// The national figures withheld, and why.
    pub withheld_totals: Vec<WithheldTotal>,
}

/// Every row of every level, suppressed together.
#[derive(Debug, Clone)]
pub struct PublishedTables {
    pub units: Vec<PublishedRow>,
    pub counties: Vec<PublishedRow>,
    /// The units grouped by size class (code `small`, `medium`, `large`; by
    /// the unit's q1), for the report's results by size: only the classes
    /// whose figures ask for no other cell to be withheld. Units of 0-1
    /// participants (`single`) are in none.
    pub size_classes: Vec<PublishedRow>,
    /// Which units (codes) make up each size class, in `size_classes` order.
    pub class_members: Vec<Vec<String>>,
    pub nation: PublishedRow,
    /// The national figures withheld, and why: a directorate cannot do
    /// without them, so the output says which and why.
    pub withheld_totals: Vec<WithheldTotal>,
    /// The size classes (their names) that have members but are not
    /// published: their figures would have given withheld ones away.
    pub left_out_classes: Vec<&'static str>,
}

/// Adds one row's counts into a sum.
fn add_into(sum: &mut [u64; CELLS], v: &[u64; CELLS]) {
    for (s, x) in sum.iter_mut().zip(v) {
        *s += x;
    }
}

/// Why a figure of the national row is withheld (the only figures a
/// directorate cannot do without; [`PublishedTables::withheld_totals`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Withheld {
    /// A count from 1 to the threshold.
    Small,
    /// Death, health or behaviour as the reason of every exit (reliability P3).
    EveryExit,
    /// No pattern without it protects the other withheld figures of the row.
    Protects,
}

impl Withheld {
    /// Why, in bokmål, for the report and the survey's table.
    pub const fn bokmal(self) -> &'static str {
        match self {
            Withheld::Small => "tallet er så lite at det kan peke ut enkeltpersoner",
            Withheld::EveryExit => "alle som avsluttet, gjorde det av en sensitiv grunn",
            Withheld::Protects => "uten det kunne et annet skjult tall i raden regnes ut",
        }
    }
}

/// A withheld national figure and why it is withheld.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct WithheldTotal {
    /// The answer or count (`q5`, `work`).
    #[serde(serialize_with = "cell_key")]
    pub figure: Cell,
    pub why: Withheld,
}

fn cell_key<S: serde::Serializer>(cell: &Cell, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(cell.key())
}

/// Exit reasons that say something sensitive about a person: death (q7a),
/// health (q8a) and behaviour (q8b).
const SENSITIVE: [Question; 3] = [Question::Q7a, Question::Q8a, Question::Q8b];

/// Why a row's cell must be withheld whatever else is: a count from 1 to
/// `up_to` (primary suppression), or a sensitive exit reason that is every
/// exit of the row (reliability P3). `None` for a cell that may be shown.
fn must_withhold(row: &[u64; CELLS], cell: Cell, up_to: u64) -> Option<Withheld> {
    let v = row[cell.index()];
    if (1..=up_to).contains(&v) {
        return Some(Withheld::Small);
    }
    let exits = row[Cell::Answer(Question::Q4).index()];
    let sensitive = matches!(cell, Cell::Answer(q) if SENSITIVE.contains(&q));
    (up_to > 0 && sensitive && exits > 0 && v == exits).then_some(Withheld::EveryExit)
}

/// How far up the row's own relations a cell sits: 0 for a part only, one
/// more than its deepest part for a total (q4 is 1, q1 is 2).
fn depths() -> [u8; CELLS] {
    let mut depth = [0u8; CELLS];
    // The relations are few and shallow: repeat until nothing changes.
    loop {
        let mut changed = false;
        for (total, parts) in row_relations() {
            let d = parts.iter().map(|p| depth[*p] + 1).max().unwrap_or(0);
            if d > depth[total] {
                depth[total] = d;
                changed = true;
            }
        }
        if !changed {
            return depth;
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
    if !classes.is_empty() && classes.iter().map(Vec::len).sum::<usize>() == units {
        sums(
            nation,
            &(units + counties.len()..nation).collect::<Vec<_>>(),
        );
    }
    out
}

/// A size class: its code, its name, and the test a unit's q1 passes to be
/// in it. Units of 0-1 participants form none: every member's q1 would then
/// be known to be 1, and the class total would count them.
const SIZE_CLASSES: [(SizeClass, &str, &str); 3] = [
    (SizeClass::Small, "small", "2–39 deltakere"),
    (SizeClass::Medium, "medium", "40–99 deltakere"),
    (SizeClass::Large, "large", "100 deltakere eller flere"),
];

/// A size class that is published: its place in [`SIZE_CLASSES`], its
/// counts, its members (unit rows) and its withheld cells.
struct ClassRow {
    class: usize,
    sum: [u64; CELLS],
    members: Vec<usize>,
    hidden: Vec<bool>,
}

/// The rows of one try at a pattern: units, counties, size classes, the
/// nation; their counts, tiers and relations.
struct Layout {
    rows: Vec<[u64; CELLS]>,
    /// Per row: 0 unit or size class, 1 county, 2 nation.
    level: Vec<u8>,
    relations: Vec<Vec<usize>>,
}

impl Layout {
    /// The nation's tiers: its figures are withheld only as a last resort.
    const MARGIN: u8 = 2 * 4;

    fn new(
        units: &[[u64; CELLS]],
        counties: &[([u64; CELLS], Vec<usize>)],
        classes: &[([u64; CELLS], Vec<usize>)],
        nation: [u64; CELLS],
    ) -> Self {
        let mut rows: Vec<[u64; CELLS]> = units.to_vec();
        let mut level = vec![0u8; units.len()];
        rows.extend(counties.iter().map(|(v, _)| *v));
        level.extend(counties.iter().map(|_| 1));
        rows.extend(classes.iter().map(|(v, _)| *v));
        level.extend(classes.iter().map(|_| 0));
        rows.push(nation);
        level.push(2);
        let county_members: Vec<Vec<usize>> = counties.iter().map(|(_, m)| m.clone()).collect();
        let class_members: Vec<Vec<usize>> = classes.iter().map(|(_, m)| m.clone()).collect();
        Self {
            rows,
            level,
            relations: relations(units.len(), &county_members, &class_members),
        }
    }

    fn values(&self) -> Vec<u64> {
        self.rows.iter().flatten().copied().collect()
    }

    /// A part before its total, a unit before a county before the nation.
    fn tiers(&self) -> Vec<u8> {
        let depth = depths();
        self.level
            .iter()
            .flat_map(|l| depth.iter().map(move |d| l * 4 + d))
            .collect()
    }
}

/// Computes the suppression pattern over units, counties, size classes and
/// the nation together.
///
/// 1. The national row alone: its small counts (and a sensitive exit reason
///    that is every exit), protected within the row, and then every
///    withheld figure it can do without published again. Below the nation
///    every cell may still be withheld, so this is the fewest national
///    figures any pattern can withhold.
/// 2. Units, counties and nation together, starting from every row's small
///    counts and the national pattern: secondary suppression takes the
///    cheapest cell ([`crate::pattern`]), so a unit before a county and a
///    county before a national figure, until the audit finds nothing.
/// 3. Each size class is then published where its figures, withheld where
///    they must be, ask for no other cell to be withheld.
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
    let unit_keys: Vec<UnitCode> = units.keys().copied().collect();
    let unit_rows: Vec<[u64; CELLS]> = units.values().copied().collect();
    let mut county_sums: BTreeMap<CountyCode, ([u64; CELLS], Vec<usize>)> = BTreeMap::new();
    for (i, (u, v)) in units.iter().enumerate() {
        let (sum, members) = county_sums
            .entry(u.county())
            .or_insert(([0; CELLS], Vec::new()));
        add_into(sum, v);
        members.push(i);
    }
    let county_keys: Vec<CountyCode> = county_sums.keys().copied().collect();
    let counties: Vec<([u64; CELLS], Vec<usize>)> = county_sums.into_values().collect();
    let mut nation = [0u64; CELLS];
    for (v, _) in &counties {
        add_into(&mut nation, v);
    }
    let withhold = |row: &[u64; CELLS]| -> Vec<bool> {
        Cell::all()
            .map(|c| must_withhold(row, c, up_to).is_some())
            .collect()
    };

    // 1. The national row on its own.
    let national_relations: Vec<Vec<usize>> = row_relations()
        .into_iter()
        .map(|(t, p)| std::iter::once(t).chain(p).collect())
        .collect();
    let national_tiers: Vec<u8> = depths().to_vec();
    let national_grid = Grid {
        values: &nation,
        tier: &national_tiers,
        margin_tier: u8::MAX,
        relations: &national_relations,
        relations_of_cell: &relations_of_cells(CELLS, &national_relations),
    };
    let mut national = withhold(&nation);
    let primary_national = national.clone();
    if national_grid
        .protect(&mut national, &primary_national)
        .is_err()
    {
        national.fill(true);
    }
    let mut secondary: Vec<usize> = (0..CELLS)
        .filter(|c| national[*c] && !primary_national[*c])
        .collect();
    secondary.sort_by_key(|c| std::cmp::Reverse((national_tiers[*c], nation[*c])));
    national_grid.release(&mut national, secondary);

    // 2. Units, counties and the nation together.
    let main = Layout::new(&unit_rows, &counties, &[], nation);
    let values = main.values();
    let tiers = main.tiers();
    let relations_of_cell = relations_of_cells(values.len(), &main.relations);
    let grid = Grid {
        values: &values,
        tier: &tiers,
        margin_tier: Layout::MARGIN,
        relations: &main.relations,
        relations_of_cell: &relations_of_cell,
    };
    let must: Vec<bool> = main.rows.iter().flat_map(withhold).collect();
    let mut hidden = must.clone();
    let nation_start = (main.rows.len() - 1) * CELLS;
    for (c, h) in national.iter().enumerate() {
        hidden[nation_start + c] |= *h;
    }
    if grid.protect(&mut hidden, &must).is_err() {
        hidden.fill(true);
    }

    // 3. Size classes, one at a time, each only where it costs nothing.
    let class_of = |v: &[u64; CELLS]| SizeClass::of(v[Cell::Answer(Question::Q1).index()]);
    let mut accepted: Vec<ClassRow> = Vec::new();
    let mut left_out: Vec<&'static str> = Vec::new();
    for (k, (class, _, _)) in SIZE_CLASSES.iter().enumerate() {
        let members: Vec<usize> = (0..unit_rows.len())
            .filter(|i| class_of(&unit_rows[*i]) == *class)
            .collect();
        if members.is_empty() {
            continue;
        }
        let mut sum = [0u64; CELLS];
        for i in &members {
            add_into(&mut sum, &unit_rows[*i]);
        }
        let tried: Vec<([u64; CELLS], Vec<usize>)> = accepted
            .iter()
            .map(|a| (a.sum, a.members.clone()))
            .chain([(sum, members.clone())])
            .collect();
        let layout = Layout::new(&unit_rows, &counties, &tried, nation);
        let values = layout.values();
        let tiers = layout.tiers();
        let relations_of_cell = relations_of_cells(values.len(), &layout.relations);
        let grid = Grid {
            values: &values,
            tier: &tiers,
            margin_tier: Layout::MARGIN,
            relations: &layout.relations,
            relations_of_cell: &relations_of_cell,
        };
        let classes_start = (unit_rows.len() + counties.len()) * CELLS;
        let candidate =
            classes_start + accepted.len() * CELLS..classes_start + (accepted.len() + 1) * CELLS;
        let mut trial: Vec<bool> = hidden[..classes_start].to_vec();
        for a in &accepted {
            trial.extend(&a.hidden);
        }
        trial.extend(withhold(&sum));
        trial.extend(&hidden[nation_start..]);
        // Only the class's own small counts and what subtraction would give
        // back are withheld; a class that needs more costs its members.
        if grid.close(&mut trial, &|c| candidate.contains(&c)).is_ok() && grid.is_safe(&trial) {
            accepted.push(ClassRow {
                class: k,
                sum,
                members,
                hidden: trial[candidate].to_vec(),
            });
        } else {
            left_out.push(SIZE_CLASSES[k].2);
        }
    }

    let published =
        |row: &[u64; CELLS], hidden: &[bool], code: String, name: Option<String>| PublishedRow {
            code,
            name,
            cells: std::array::from_fn(|c| (!hidden[c]).then_some(row[c])),
        };
    let row_hidden = |i: usize| &hidden[i * CELLS..(i + 1) * CELLS];
    let withheld_totals = Cell::all()
        .filter(|c| hidden[nation_start + c.index()])
        .map(|c| WithheldTotal {
            figure: c,
            why: must_withhold(&nation, c, up_to).unwrap_or(Withheld::Protects),
        })
        .collect();
    PublishedTables {
        units: unit_keys
            .iter()
            .enumerate()
            .map(|(i, u)| {
                published(
                    &unit_rows[i],
                    row_hidden(i),
                    u.to_string(),
                    u.name_on(year_end).map(str::to_owned),
                )
            })
            .collect(),
        counties: county_keys
            .iter()
            .enumerate()
            .map(|(k, c)| {
                let i = unit_rows.len() + k;
                published(
                    &counties[k].0,
                    row_hidden(i),
                    c.to_string(),
                    Some(c.name_on(year_end).to_owned()),
                )
            })
            .collect(),
        size_classes: accepted
            .iter()
            .map(|a| {
                let (_, code, name) = SIZE_CLASSES[a.class];
                published(&a.sum, &a.hidden, code.into(), Some(name.into()))
            })
            .collect(),
        class_members: accepted
            .iter()
            .map(|a| {
                a.members
                    .iter()
                    .map(|i| unit_keys[*i].to_string())
                    .collect()
            })
            .collect(),
        nation: published(
            &nation,
            &hidden[nation_start..],
            "national".into(),
            Some("Hele landet".into()),
        ),
        withheld_totals,
        left_out_classes: left_out,
    }
}

/// The published survey at the level asked for.
pub fn publish(projections: &Projections, request: &SurveyRequest, up_to: u64) -> Published {
    Published::at_level(publish_all(projections, request, up_to), request, up_to)
}

impl Published {
    /// The level `request.by` asks for, out of every published table.
    pub fn at_level(all: PublishedTables, request: &SurveyRequest, up_to: u64) -> Self {
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
            withheld_totals: all.withheld_totals,
        }
    }
}

/// A publication as recorded when it was made (reliability P4): the year,
/// what it reflects, and every figure it showed, so that a later
/// publication of the same year can be held against it.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct Publication {
    pub year: i32,
    /// The figures are the log as it stood at this time (`--known-at`).
    pub known_at: chrono::DateTime<chrono::Utc>,
    pub made_at: chrono::DateTime<chrono::Utc>,
    /// The log's head when it was made: sequence number and hash.
    pub head_seq: u64,
    pub head_hash: String,
    pub suppressed_up_to: u64,
    /// Every published row by code (units, counties, size classes,
    /// `national`): its figures in [`Cell::all`] order, `None` where withheld.
    pub figures: BTreeMap<String, Vec<Option<u64>>>,
}

impl PublishedTables {
    /// Every row's figures by code, as a [`Publication`] records them.
    pub fn figures(&self) -> BTreeMap<String, Vec<Option<u64>>> {
        rows_of(self)
            .into_iter()
            .map(|r| (r.code.clone(), r.cells().map(|(_, v)| v).collect()))
            .collect()
    }
}

impl Publication {
    /// The figures that differ between this publication and `figures` (of
    /// the same year): a row of either that the other lacks counts whole.
    pub fn differences(&self, figures: &BTreeMap<String, Vec<Option<u64>>>) -> usize {
        let rows: std::collections::BTreeSet<&String> =
            self.figures.keys().chain(figures.keys()).collect();
        rows.into_iter()
            .map(|code| match (self.figures.get(code), figures.get(code)) {
                (Some(a), Some(b)) => a.iter().zip(b).filter(|(x, y)| x != y).count(),
                (Some(row), None) | (None, Some(row)) => row.len(),
                (None, None) => 0,
            })
            .sum()
    }
}

/// Every unit's figures in the year as known at the request's time, not
/// suppressed, in [`Cell::all`] order: what a unit submits (levert).
pub fn unit_figures(
    projections: &Projections,
    request: &SurveyRequest,
) -> BTreeMap<UnitCode, Vec<u64>> {
    by_unit(projections, request.year, request.known_at, request.as_of)
        .into_iter()
        .map(|(u, c)| (u, values(&c).to_vec()))
        .collect()
}

/// A unit's answers for a year as its leader submitted them to the
/// directorate (levere årsrapportering): every figure, not suppressed, with
/// what they reflect. A submission counts as a publication for reliability
/// P4, and later events that change the unit's year show as differences
/// against it.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct Submission {
    pub year: i32,
    /// The unit's code.
    pub unit: String,
    /// The figures are the log as it stood at this time (`--known-at`).
    pub known_at: chrono::DateTime<chrono::Utc>,
    pub submitted_at: chrono::DateTime<chrono::Utc>,
    /// Who submitted (the operating-system user, or the account).
    pub by: String,
    /// The log's head when it was submitted: sequence number and hash.
    pub head_seq: u64,
    pub head_hash: String,
    /// Every figure in [`Cell::all`] order.
    pub figures: Vec<u64>,
}

/// A figure that has changed since it was submitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Change {
    pub cell: Cell,
    pub submitted: u64,
    pub now: u64,
}

impl Submission {
    /// The figures that have changed since, given the unit's figures now.
    pub fn changes(&self, now: &[u64]) -> Vec<Change> {
        Cell::all()
            .zip(self.figures.iter().zip(now))
            .filter(|(_, (a, b))| a != b)
            .map(|(cell, (a, b))| Change {
                cell,
                submitted: *a,
                now: *b,
            })
            .collect()
    }

    /// How many of the unit's figures that `published` shows (a
    /// publication's figures by row code) differ from the submitted ones.
    /// A figure withheld there tells nothing and is not compared.
    pub fn differences_in(&self, published: &BTreeMap<String, Vec<Option<u64>>>) -> usize {
        published.get(&self.unit).map_or(0, |row| {
            row.iter()
                .zip(&self.figures)
                .filter(|(shown, submitted)| shown.is_some_and(|v| v != **submitted))
                .count()
        })
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
