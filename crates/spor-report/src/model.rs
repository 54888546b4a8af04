//! The report as tables and charts: every figure the page shows and the CSV
//! lists, built once from the published tables, so the two cannot differ.
//! The templates only lay it out.

use chrono::{DateTime, NaiveDate, Utc};
use spor_projections::outcomes::POINTS;
use spor_projections::publish::{Cell, Derived, PublishedRow, PublishedTables};
use spor_projections::survey::{Question, TARGET_ONE_YEAR, TARGET_WORK_OR_EDUCATION};

use crate::ReportInput;
use crate::format::{number, percent};

/// One figure as published.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Value {
    /// A count; `None` where withheld.
    Count(Option<u64>),
    /// A share (0 to 1); `None` where a count it divides is withheld.
    Share(Option<f64>),
    /// A share of nothing: the whole is 0.
    NotComputable,
}

/// Statistics Norway's sign for a figure withheld to protect individuals.
pub const WITHHELD: &str = ":";
/// Statistics Norway's sign for a figure that cannot be computed.
pub const NOT_COMPUTABLE: &str = ".";

impl Value {
    /// The share of two published counts: withheld where either is, not
    /// computable where the whole is 0 (reliability P5).
    fn share(part: Option<u64>, whole: Option<u64>) -> Self {
        match (part, whole) {
            (_, Some(0)) => Value::NotComputable,
            #[allow(clippy::cast_precision_loss)] // counts far below 2^52
            (Some(p), Some(w)) => Value::Share(Some(p as f64 / w as f64)),
            _ => Value::Share(None),
        }
    }

    /// As the page shows it: `1 415`, `62,5 %`, `:`, `.`.
    pub fn text(self) -> String {
        match self {
            Value::Count(Some(n)) => number(n),
            Value::Share(Some(s)) => percent(s),
            Value::Count(None) | Value::Share(None) => WITHHELD.into(),
            Value::NotComputable => NOT_COMPUTABLE.into(),
        }
    }

    /// As a spreadsheet reads it (docs/contract-readings.md #23): `1415`, a
    /// share in percent with one decimal and a decimal point (`62.5`), `:`
    /// or `.`.
    pub fn plain(self) -> String {
        match self {
            Value::Count(Some(n)) => n.to_string(),
            Value::Share(Some(s)) => format!("{:.1}", s * 100.0),
            Value::Count(None) | Value::Share(None) => WITHHELD.into(),
            Value::NotComputable => NOT_COMPUTABLE.into(),
        }
    }

    /// A count's value, for a chart.
    fn count(self) -> Option<u64> {
        match self {
            Value::Count(n) => n,
            _ => None,
        }
    }
}

/// A column of a table.
pub struct Column {
    /// The stable key (`q1`, `work_or_education`, `share`), on the page as
    /// `data-key` and in the CSV.
    pub key: String,
    /// The heading, in bokmål: the questionnaire's wording for an answer.
    pub label: String,
}

/// A row of a table.
pub struct Row {
    /// The row's code (`03`, `national`, `small`, `2007`), as `data-code`.
    pub code: String,
    /// The row's heading, in bokmål.
    pub name: String,
    /// The national row among counties: set off on the page.
    pub emphasised: bool,
    /// One value per column.
    pub values: Vec<Value>,
}

/// A table: a caption, column headings, rows with a heading each.
pub struct Table {
    /// The section's key (`participants`), as `data-section`.
    pub section: &'static str,
    pub caption: String,
    /// The heading of the rows' own column.
    pub row_heading: &'static str,
    pub columns: Vec<Column>,
    pub rows: Vec<Row>,
}

impl Table {
    /// The element id of the caption, for the scrolling box's label.
    pub fn caption_id(&self) -> String {
        format!("tabell-{}", self.section)
    }
}

/// A line across every bar of a chart: the national average, a target.
pub struct Marker {
    /// Where, in percent of the chart's width.
    pub at: f64,
    pub label: String,
    /// `average` (dashed) or `target` (solid): told apart by line and
    /// text, never by colour alone.
    pub kind: &'static str,
}

/// One bar.
pub struct Bar {
    pub label: String,
    /// Its length, in percent of the chart's width.
    pub width: f64,
    /// The value as text, beside the bar.
    pub text: String,
}

/// A bar chart, drawn in HTML: every label and value is text, so the chart
/// is its own text equivalent and reflows on a narrow screen.
pub struct Chart {
    pub id: &'static str,
    pub title: String,
    pub bars: Vec<Bar>,
    pub markers: Vec<Marker>,
}

/// A part of the report: a heading, notes, tables, a chart.
pub struct Section {
    pub id: &'static str,
    pub heading: &'static str,
    pub notes: Vec<String>,
    pub tables: Vec<Table>,
    pub chart: Option<Chart>,
}

/// The report, ready to lay out: `templates/report.html` reads its fields.
#[derive(askama::Template)]
#[template(path = "report.html")]
pub struct Report {
    pub year: i32,
    /// The day it was made, `01.12.2026`.
    pub made_on: String,
    /// What the figures reflect: every event recorded up to this time.
    pub known_at: String,
    pub head_seq: u64,
    /// The head hash's first 16 hex digits.
    pub head_hash: String,
    pub suppressed_up_to: u64,
    /// The national figures withheld, in bokmål, grouped by why.
    pub withheld_totals: Vec<(&'static str, Vec<&'static str>)>,
    pub sections: Vec<Section>,
    pub target_work_or_education: String,
    pub target_one_year: String,
}

/// `05.01.2008`.
pub fn norwegian_date(d: NaiveDate) -> String {
    d.format("%d.%m.%Y").to_string()
}

/// `05.01.2008 kl. 14.30 UTC`.
fn norwegian_time(t: DateTime<Utc>) -> String {
    t.format("%d.%m.%Y kl. %H.%M UTC").to_string()
}

/// The exit mix of the report: (key, label, the answers summed). Between
/// them the groups hold each of [`Question::EXIT_MIX`] once (a test checks).
pub(crate) const EXIT_MIX: [(&str, &str, &[Question]); 8] = {
    use Question::*;
    [
        ("work", "Arbeid", &[Q10a, Q11a]),
        ("education", "Utdanning", &[Q9a, Q9b]),
        ("primary_school", "Grunnskole", &[Q12a]),
        ("measures", "Tiltak", &[Q11b, Q12b]),
        ("health", "Helse", &[Q8a]),
        ("no_activity", "Ingen aktivitet", &[Q12c]),
        ("moved", "Flyttet", &[Q7b]),
        ("other", "Annet, ukjent, død", &[Q7a, Q7c, Q8b]),
    ]
};

/// Time in programme: the counts and their labels.
const TIME: [(Cell, &str); 3] = [
    (Cell::Answer(Question::Q5), "Under to år"),
    (Cell::Derived(Derived::TwoYears), "To år"),
    (Cell::Answer(Question::Q6), "Over to år"),
];

/// The one-year result: the counts and their labels.
const ONE_YEAR: [(Derived, &str); 5] = [
    (Derived::OneYearJobseekers, "Arbeidssøkere ved avslutning"),
    (Derived::OneYearReached, "Nådd etter 12 måneder"),
    (Derived::OneYearWorkOrEducation, "I arbeid eller utdanning"),
    (Derived::OneYearNotReached, "Ikke nådd"),
    (Derived::OneYearPending, "Venter på kontakt"),
];

/// The data-quality findings as a leader reads them.
fn finding_label(rule: &str) -> &'static str {
    match rule {
        "past_planned_end" => "Passert planlagt slutt uten avslutning eller forlengelse",
        "no_event_for" => "Ingen hendelse på 90 dager",
        "exit_recorded_late" => "Avslutning registrert mer enn to måneder etter",
        "leave_without_return" => "Permisjon over uten registrert retur",
        "unit_not_in_code_table" => "Enhetsnummer som ikke finnes i SSBs kodeliste",
        "registered_twice" => {
            "Samme person registrert to ganger i samme tidsrom (teller én gang per registrering)"
        }
        _ => "Annet",
    }
}

fn column(key: &str, label: &str) -> Column {
    Column {
        key: key.to_owned(),
        label: label.to_owned(),
    }
}

/// A column of one published count, headed by its wording.
fn cell_column(c: Cell) -> Column {
    column(c.key(), c.text())
}

fn sum(row: &PublishedRow, questions: &[Question]) -> Option<u64> {
    questions.iter().map(|q| row.get(*q)).sum()
}

/// The share in work or education at exit of one row.
fn work_or_education_share(row: &PublishedRow) -> Value {
    Value::share(row.get(Derived::WorkOrEducation), row.get(Question::Q4))
}

fn share_of(v: Value) -> Option<f64> {
    match v {
        Value::Share(s) => s,
        _ => None,
    }
}

/// Counties by their share in work or education, highest first; those
/// without a published share last.
fn sorted_counties(t: &PublishedTables) -> Vec<&PublishedRow> {
    let mut v: Vec<&PublishedRow> = t.counties.iter().collect();
    v.sort_by(|a, b| {
        let (x, y) = (
            share_of(work_or_education_share(a)),
            share_of(work_or_education_share(b)),
        );
        y.partial_cmp(&x)
            .unwrap_or(std::cmp::Ordering::Equal)
            .then_with(|| a.code.cmp(&b.code))
    });
    v
}

fn row_name(row: &PublishedRow) -> String {
    row.name.clone().unwrap_or_else(|| row.code.clone())
}

/// Bars of counts, scaled to the largest.
fn count_bars(items: Vec<(String, Value)>) -> Vec<Bar> {
    let max = items
        .iter()
        .filter_map(|(_, v)| v.count())
        .max()
        .unwrap_or(0);
    items
        .into_iter()
        .map(|(label, v)| Bar {
            label,
            #[allow(clippy::cast_precision_loss)]
            width: match v.count() {
                Some(n) if max > 0 => n as f64 / max as f64 * 100.0,
                _ => 0.0,
            },
            text: v.text(),
        })
        .collect()
}

/// Bars of shares, on a scale from 0 to 100 %.
fn share_bars(items: Vec<(String, Value)>) -> Vec<Bar> {
    items
        .into_iter()
        .map(|(label, v)| Bar {
            label,
            width: share_of(v).map_or(0.0, |s| s * 100.0),
            text: v.text(),
        })
        .collect()
}

impl Report {
    /// Lays the input out as tables and charts.
    #[allow(clippy::too_many_lines)] // one section after another, in page order
    pub fn of(input: &ReportInput<'_>) -> Self {
        let t = input.tables;
        let k = input.suppressed_up_to;
        let mut sections = Vec::new();

        // Participants per county.
        let participants = [Question::Q1, Question::Q2, Question::Q4];
        let rows = t
            .counties
            .iter()
            .chain([&t.nation])
            .map(|r| Row {
                code: r.code.clone(),
                name: row_name(r),
                emphasised: std::ptr::eq(r, &t.nation),
                values: participants
                    .iter()
                    .map(|q| Value::Count(r.get(*q)))
                    .collect(),
            })
            .collect();
        sections.push(Section {
            id: "participants",
            heading: "Deltakere per fylke",
            notes: vec![],
            tables: vec![Table {
                section: "participants",
                caption: format!(
                    "Deltakere i introduksjonsprogrammet per fylke, {}",
                    input.year
                ),
                row_heading: "Fylke",
                columns: participants
                    .iter()
                    .map(|q| cell_column((*q).into()))
                    .collect(),
                rows,
            }],
            chart: Some(Chart {
                id: "chart-participants",
                title: "Deltakere i løpet av året per fylke".into(),
                bars: count_bars(
                    t.counties
                        .iter()
                        .map(|r| (row_name(r), Value::Count(r.get(Question::Q1))))
                        .collect(),
                ),
                markers: vec![],
            }),
        });

        // The exit mix.
        let ended = t.nation.get(Question::Q4);
        let mix: Vec<(String, Value, Value)> = EXIT_MIX
            .iter()
            .map(|(key, _, parts)| {
                let n = sum(&t.nation, parts);
                ((*key).to_owned(), Value::Count(n), Value::share(n, ended))
            })
            .collect();
        sections.push(Section {
            id: "exit_mix",
            heading: "Hva deltakerne gikk til",
            notes: vec![
                "Hver som avsluttet, har én hovedaktivitet ved avslutning. Andelen er av alle som avsluttet i året.".into(),
            ],
            tables: vec![Table {
                section: "exit_mix",
                caption: format!("Hovedaktivitet ved avslutning, hele landet, {}", input.year),
                row_heading: "Hovedaktivitet",
                columns: vec![column("count", "Antall"), column("share", "Andel")],
                rows: EXIT_MIX
                    .iter()
                    .zip(&mix)
                    .map(|((key, label, _), (_, n, s))| Row {
                        code: (*key).to_owned(),
                        name: (*label).to_owned(),
                        emphasised: false,
                        values: vec![*n, *s],
                    })
                    .collect(),
            }],
            chart: Some(Chart {
                id: "chart-exit-mix",
                title: "Hovedaktivitet ved avslutning, hele landet".into(),
                bars: count_bars(
                    EXIT_MIX
                        .iter()
                        .zip(&mix)
                        .map(|((_, label, _), (_, n, _))| ((*label).to_owned(), *n))
                        .collect(),
                ),
                markers: vec![],
            }),
        });

        // Counties by their share in work or education.
        let national = work_or_education_share(&t.nation);
        let county_row = |r: &PublishedRow, emphasised: bool| Row {
            code: r.code.clone(),
            name: if emphasised {
                "Hele landet".into()
            } else {
                row_name(r)
            },
            emphasised,
            values: vec![
                Value::Count(r.get(Question::Q4)),
                Value::Count(r.get(Derived::WorkOrEducation)),
                work_or_education_share(r),
            ],
        };
        let sorted = sorted_counties(t);
        let mut rows = Vec::new();
        let mut average_shown = false;
        for r in &sorted {
            let s = share_of(work_or_education_share(r));
            if !average_shown && s.is_none_or(|s| share_of(national).is_some_and(|n| s < n)) {
                rows.push(county_row(&t.nation, true));
                average_shown = true;
            }
            rows.push(county_row(r, false));
        }
        if !average_shown {
            rows.push(county_row(&t.nation, true));
        }
        let mut markers = vec![Marker {
            at: TARGET_WORK_OR_EDUCATION * 100.0,
            label: format!("Mål {}", percent(TARGET_WORK_OR_EDUCATION)),
            kind: "target",
        }];
        if let Some(n) = share_of(national) {
            markers.push(Marker {
                at: n * 100.0,
                label: format!("Hele landet {}", percent(n)),
                kind: "average",
            });
        }
        sections.push(Section {
            id: "counties",
            heading: "Arbeid eller utdanning ved avslutning, per fylke",
            notes: vec![format!(
                "Målet er at {} går til arbeid eller utdanning. Fylkene er sortert etter andel; hele landet står der landets andel hører hjemme.",
                percent(TARGET_WORK_OR_EDUCATION)
            )],
            tables: vec![Table {
                section: "counties",
                caption: format!(
                    "Avsluttet i {} og andel i arbeid eller utdanning, per fylke",
                    input.year
                ),
                row_heading: "Fylke",
                columns: vec![
                    cell_column(Question::Q4.into()),
                    cell_column(Derived::WorkOrEducation.into()),
                    column("share", "Andel arbeid eller utdanning"),
                ],
                rows,
            }],
            chart: Some(Chart {
                id: "chart-counties",
                title: "Andel i arbeid eller utdanning per fylke".into(),
                bars: share_bars(
                    sorted
                        .iter()
                        .map(|r| (row_name(r), work_or_education_share(r)))
                        .collect(),
                ),
                markers,
            }),
        });

        // Results by size class.
        let mut notes = vec!["Enhetene er gruppert etter antall deltakere i løpet av året. Enheter med én deltaker vises ikke som egen gruppe: tallene deres ville gjelde én person.".to_owned()];
        if !t.left_out_classes.is_empty() {
            notes.push(format!(
                "Ikke vist: {}. Tallene for gruppen ville gjort det mulig å regne ut skjulte tall for enkeltenheter.",
                t.left_out_classes.join(", ")
            ));
        }
        sections.push(Section {
            id: "size",
            heading: "Resultater etter programmets størrelse",
            notes,
            tables: vec![Table {
                section: "size",
                caption: format!("Resultater {} etter antall deltakere i enheten", input.year),
                row_heading: "Størrelse",
                columns: vec![
                    cell_column(Question::Q1.into()),
                    cell_column(Question::Q4.into()),
                    cell_column(Derived::WorkOrEducation.into()),
                    column("share", "Andel arbeid eller utdanning"),
                ],
                rows: t
                    .size_classes
                    .iter()
                    .map(|r| Row {
                        code: r.code.clone(),
                        name: row_name(r),
                        emphasised: false,
                        values: vec![
                            Value::Count(r.get(Question::Q1)),
                            Value::Count(r.get(Question::Q4)),
                            Value::Count(r.get(Derived::WorkOrEducation)),
                            work_or_education_share(r),
                        ],
                    })
                    .collect(),
            }],
            chart: None,
        });

        // Time in programme and support at exit.
        let national_rows = |cells: Vec<(Cell, &str)>| -> Vec<Row> {
            cells
                .into_iter()
                .map(|(c, label)| {
                    let n = t.nation.get(c);
                    Row {
                        code: c.key().to_owned(),
                        name: label.to_owned(),
                        emphasised: false,
                        values: vec![Value::Count(n), Value::share(n, ended)],
                    }
                })
                .collect()
        };
        let support: Vec<(Cell, &str)> = Question::SUPPORT
            .into_iter()
            .map(|q| (Cell::Answer(q), q.text()))
            .chain([(Cell::Derived(Derived::NoSupport), "Ingen av disse")])
            .collect();
        sections.push(Section {
            id: "time",
            heading: "Tid i programmet og livsopphold ved avslutning",
            notes: vec!["Andelene er av alle som avsluttet i året. En deltaker kan ha flere slags livsopphold, så de summerer ikke til 100 %.".into()],
            tables: vec![
                Table {
                    section: "time",
                    caption: format!("Tid i programmet for dem som avsluttet i {}", input.year),
                    row_heading: "Tid i programmet",
                    columns: vec![column("count", "Antall"), column("share", "Andel")],
                    rows: national_rows(TIME.to_vec()),
                },
                Table {
                    section: "support",
                    caption: format!("Livsopphold ved avslutning, {}", input.year),
                    row_heading: "Livsopphold",
                    columns: vec![column("count", "Antall"), column("share", "Andel")],
                    rows: national_rows(support),
                },
            ],
            chart: None,
        });

        // The one-year result.
        let mut rows: Vec<Row> = ONE_YEAR
            .iter()
            .map(|(d, label)| Row {
                code: d.key().to_owned(),
                name: (*label).to_owned(),
                emphasised: false,
                values: vec![Value::Count(t.nation.get(*d))],
            })
            .collect();
        rows.push(Row {
            code: "share".into(),
            name: "Andel i arbeid eller utdanning".into(),
            emphasised: true,
            values: vec![Value::share(
                t.nation.get(Derived::OneYearWorkOrEducation),
                t.nation.get(Derived::OneYearJobseekers),
            )],
        });
        sections.push(Section {
            id: "one_year",
            heading: "Ettårsresultat",
            notes: vec![format!(
                "Av dem som avsluttet i {} som arbeidssøkere: hvor mange var i arbeid eller utdanning ved kontakt tolv måneder etter. Målet er {}.",
                input.year,
                percent(TARGET_ONE_YEAR)
            )],
            tables: vec![Table {
                section: "one_year",
                caption: format!("Ettårsresultat for dem som avsluttet i {}", input.year),
                row_heading: "",
                columns: vec![column("count", "Antall")],
                rows,
            }],
            chart: None,
        });

        // Follow-up outcomes over time.
        let hide = |n: u64| Value::Count((n == 0 || n > k).then_some(n));
        let mut columns = vec![column("ended", "Avsluttet")];
        for m in POINTS {
            columns.push(column(&format!("reached_{m}"), &format!("Nådd {m} mnd")));
            columns.push(column(
                &format!("work_or_education_{m}"),
                &format!("Arbeid eller utdanning {m} mnd"),
            ));
            columns.push(column(&format!("share_{m}"), &format!("Andel {m} mnd")));
        }
        let mut bars = Vec::new();
        let rows = input
            .cohorts
            .iter()
            .map(|c| {
                let mut values = vec![hide(c.ended)];
                for (i, m) in POINTS.iter().enumerate() {
                    let (r, w) = (hide(c.reached[i]), hide(c.work_or_education[i]));
                    let s = Value::share(w.count(), r.count());
                    values.extend([r, w, s]);
                    bars.push((format!("{} etter {m} mnd", c.year), s));
                }
                Row {
                    code: c.year.to_string(),
                    name: c.year.to_string(),
                    emphasised: false,
                    values,
                }
            })
            .collect();
        sections.push(Section {
            id: "outcomes",
            heading: "Kontakt etter avslutning",
            notes: vec![format!(
                "For hvert avslutningsår (fullført eller stanset): hvor mange som ble nådd 2, 6 og 12 måneder etter, og hvor stor andel av dem som var i arbeid eller utdanning. Tall fra 1 til {k} er skjult. Tallene er slik loggen er når rapporten lages."
            )],
            tables: vec![Table {
                section: "outcomes",
                caption: "Nådd og i arbeid eller utdanning etter avslutning, per avslutningsår".into(),
                row_heading: "Avslutningsår",
                columns,
                rows,
            }],
            chart: Some(Chart {
                id: "chart-outcomes",
                title: "Andel i arbeid eller utdanning blant dem som ble nådd".into(),
                bars: share_bars(bars),
                markers: vec![],
            }),
        });

        // Data quality.
        sections.push(Section {
            id: "quality",
            heading: "Datakvalitet",
            notes: vec![format!(
                "Funn i registreringene per 31.12.{}, slik loggen er når rapporten lages.",
                input.year
            )],
            tables: vec![Table {
                section: "quality",
                caption: format!("Funn i registreringene per 31.12.{}", input.year),
                row_heading: "Funn",
                columns: vec![column("count", "Antall")],
                rows: input
                    .findings
                    .iter()
                    .map(|(rule, n)| Row {
                        code: (*rule).to_owned(),
                        name: finding_label(rule).to_owned(),
                        emphasised: false,
                        values: vec![Value::Count(Some(u64::try_from(*n).unwrap_or(u64::MAX)))],
                    })
                    .collect(),
            }],
            chart: None,
        });

        Report {
            year: input.year,
            made_on: norwegian_date(input.made_at.date_naive()),
            known_at: norwegian_time(input.known_at.unwrap_or(input.made_at)),
            head_seq: input.head.0,
            head_hash: input.head.1[..input.head.1.len().min(16)].to_owned(),
            suppressed_up_to: k,
            withheld_totals: {
                let mut groups: Vec<(&'static str, Vec<&'static str>)> = Vec::new();
                for w in &t.withheld_totals {
                    let why = w.why.bokmal();
                    match groups.iter_mut().find(|(g, _)| *g == why) {
                        Some((_, figures)) => figures.push(w.figure.text()),
                        None => groups.push((why, vec![w.figure.text()])),
                    }
                }
                groups
            },
            sections,
            target_work_or_education: percent(TARGET_WORK_OR_EDUCATION),
            target_one_year: percent(TARGET_ONE_YEAR),
        }
    }

    /// Every figure with where it stands: (table, row, column, value), in
    /// page order.
    pub fn figures(&self) -> impl Iterator<Item = (&Table, &Row, &Column, Value)> {
        self.sections.iter().flat_map(|s| &s.tables).flat_map(|t| {
            t.rows.iter().flat_map(move |r| {
                t.columns
                    .iter()
                    .zip(&r.values)
                    .map(move |(c, v)| (t, r, c, *v))
            })
        })
    }
}
