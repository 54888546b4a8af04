//! The national report (issue 4): the year-end survey in the shape of the
//! directorate's 2007 report, as one self-contained HTML page (inline CSS and
//! SVG, no JavaScript, no network) and the same figures as CSV.
//!
//! Holds: the page's sections, the charts, and Norwegian number formats.
//! Never: files, the clock or the network; it renders what it is given. Every
//! figure comes from the published (suppressed) tables, so the page never
//! shows a count that singles out a person. Every figure cell carries
//! `data-section`, `data-code` and `data-key`, so tests (and anyone) can read
//! the figures back and compare them with `spor survey`.

mod format;

use std::fmt::Write;

use chrono::NaiveDate;
pub use format::{number, percent};
use spor_projections::Projections;
use spor_projections::lint::{LintLimits, LintRule, findings};
use spor_projections::outcomes::{Cohort, POINTS, cohorts};
use spor_projections::publish::{Cell, Derived, PublishedRow, PublishedTables, publish_all};
use spor_projections::survey::{Grouping, Question, SurveyRequest};

/// What the report is made of.
pub struct ReportInput<'a> {
    pub year: i32,
    pub tables: &'a PublishedTables,
    /// Counts from 1 to this were suppressed.
    pub suppressed_up_to: u64,
    /// Data-quality findings per rule (rule code, count), as of 31 December.
    pub findings: &'a [(&'static str, usize)],
    /// The log's head when the report was made (sequence number, hash), so
    /// the figures can be reproduced.
    pub head: (u64, String),
    /// Follow-up outcomes of each exit cohort up to the report's year.
    pub cohorts: &'a [Cohort],
}

/// The projections' part of a report: the tables published together, the
/// data-quality findings as of 31 December, and the follow-up cohorts of the
/// report's year and the three before it.
pub struct Gathered {
    pub year: i32,
    pub tables: PublishedTables,
    pub suppressed_up_to: u64,
    pub findings: Vec<(&'static str, usize)>,
    pub cohorts: Vec<Cohort>,
}

impl Gathered {
    /// Reads the report's figures of `year` from `projections`; the one-year
    /// indicator is taken on `as_of`.
    pub fn from(
        projections: &Projections,
        year: i32,
        as_of: NaiveDate,
        up_to: u64,
        limits: LintLimits,
    ) -> Self {
        let request = SurveyRequest {
            year,
            by: Grouping::County,
            known_at: None,
            as_of,
        };
        let tables = publish_all(projections, &request, up_to);
        let year_end = NaiveDate::from_ymd_opt(year, 12, 31).unwrap_or(NaiveDate::MAX);
        let found = findings(projections, year_end, None, limits);
        let count = |pick: fn(&LintRule) -> bool| found.iter().filter(|f| pick(&f.rule)).count();
        let findings = vec![
            (
                "past_planned_end",
                count(|r| matches!(r, LintRule::PastPlannedEnd { .. })),
            ),
            (
                "no_event_for",
                count(|r| matches!(r, LintRule::NoEventFor { .. })),
            ),
            (
                "exit_recorded_late",
                count(|r| matches!(r, LintRule::ExitRecordedLate { .. })),
            ),
            (
                "leave_without_return",
                count(|r| matches!(r, LintRule::LeaveWithoutReturn { .. })),
            ),
            (
                "unit_not_in_code_table",
                count(|r| matches!(r, LintRule::UnitNotInCodeTable)),
            ),
        ];
        let cohorts = cohorts(projections, year - 3, year);
        Self {
            year,
            tables,
            suppressed_up_to: up_to,
            findings,
            cohorts,
        }
    }

    /// The report's input, with the log's head (sequence number, hash).
    pub fn input(&self, head: (u64, String)) -> ReportInput<'_> {
        ReportInput {
            year: self.year,
            tables: &self.tables,
            suppressed_up_to: self.suppressed_up_to,
            findings: &self.findings,
            head,
            cohorts: &self.cohorts,
        }
    }
}

/// One figure: a section, a row code, a key, and the published value.
#[derive(Debug, Clone, PartialEq)]
pub struct Figure {
    pub section: &'static str,
    pub code: String,
    pub key: String,
    pub value: Option<f64>,
}

/// The exit mix of the report: (key, label, the answers summed). Between
/// them the groups hold each of [`Question::EXIT_MIX`] once (a test checks).
const EXIT_MIX: [(&str, &str, &[Question]); 8] = {
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

fn sum(row: &PublishedRow, questions: &[Question]) -> Option<u64> {
    questions.iter().map(|q| row.get(*q)).sum()
}

/// The share in work or education at exit of one row.
fn work_or_education_share(row: &PublishedRow) -> Option<f64> {
    share(row.get(Derived::WorkOrEducation), row.get(Question::Q4))
}

#[allow(clippy::cast_precision_loss)] // counts far below 2^52
fn share(part: Option<u64>, whole: Option<u64>) -> Option<f64> {
    match (part, whole) {
        (Some(p), Some(w)) if w > 0 => Some(p as f64 / w as f64),
        _ => None,
    }
}

/// Time in programme: the counts and their labels.
const TIME: [(Cell, &str); 3] = [
    (Cell::Answer(Question::Q5), "Under to år"),
    (Cell::Derived(Derived::TwoYears), "To år"),
    (Cell::Answer(Question::Q6), "Over to år"),
];

/// Support at exit: each kind under the questionnaire's wording, then none.
fn support() -> impl Iterator<Item = (Cell, &'static str)> {
    Question::SUPPORT
        .into_iter()
        .map(|q| (Cell::Answer(q), q.text()))
        .chain([(Cell::Derived(Derived::NoSupport), "Ingen av disse")])
}

/// The one-year result: the counts and their labels.
const ONE_YEAR: [(Derived, &str); 5] = [
    (Derived::OneYearJobseekers, "Arbeidssøkere ved avslutning"),
    (Derived::OneYearReached, "Nådd etter 12 måneder"),
    (Derived::OneYearWorkOrEducation, "I arbeid eller utdanning"),
    (Derived::OneYearNotReached, "Ikke nådd"),
    (Derived::OneYearPending, "Venter på kontakt"),
];

/// Every figure of the report, in page order: what the HTML shows and the
/// CSV lists.
pub fn figures(input: &ReportInput<'_>) -> Vec<Figure> {
    let mut out = Vec::new();
    let t = input.tables;
    #[allow(clippy::cast_precision_loss)]
    let mut add = |section: &'static str, code: &str, key: &str, value: Option<f64>| {
        out.push(Figure {
            section,
            code: code.to_owned(),
            key: key.to_owned(),
            value,
        });
    };
    #[allow(clippy::cast_precision_loss)]
    let f = |n: Option<u64>| n.map(|n| n as f64);
    for row in t.counties.iter().chain([&t.nation]) {
        for q in [Question::Q1, Question::Q2, Question::Q4] {
            add("participants", &row.code, q.key(), f(row.get(q)));
        }
    }
    for (key, _, parts) in EXIT_MIX {
        add("exit_mix", "national", key, f(sum(&t.nation, parts)));
    }
    for row in sorted_counties(t) {
        for c in [
            Cell::from(Question::Q4),
            Cell::from(Derived::WorkOrEducation),
        ] {
            add("counties", &row.code, c.key(), f(row.get(c)));
        }
        add("counties", &row.code, "share", work_or_education_share(row));
    }
    for row in &t.size_classes {
        for c in [
            Cell::from(Question::Q1),
            Cell::from(Question::Q4),
            Cell::from(Derived::WorkOrEducation),
        ] {
            add("size", &row.code, c.key(), f(row.get(c)));
        }
        add("size", &row.code, "share", work_or_education_share(row));
    }
    for (c, _) in TIME {
        add("time", "national", c.key(), f(t.nation.get(c)));
    }
    for (c, _) in support() {
        add("support", "national", c.key(), f(t.nation.get(c)));
    }
    for (d, _) in ONE_YEAR {
        add("one_year", "national", d.key(), f(t.nation.get(d)));
    }
    for c in input.cohorts {
        let hide = |n: u64| {
            (n > 0 && n <= input.suppressed_up_to)
                .then_some(())
                .map_or(Some(n), |()| None)
        };
        let code = c.year.to_string();
        add("outcomes", &code, "ended", f(hide(c.ended)));
        for (i, m) in POINTS.iter().enumerate() {
            add(
                "outcomes",
                &code,
                &format!("reached_{m}"),
                f(hide(c.reached[i])),
            );
            add(
                "outcomes",
                &code,
                &format!("work_or_education_{m}"),
                f(hide(c.work_or_education[i])),
            );
        }
    }
    for (rule, n) in input.findings {
        #[allow(clippy::cast_precision_loss)]
        add("quality", "national", rule, Some(*n as f64));
    }
    out
}

/// Counties by their share in work or education, highest first; those
/// without a published share last.
fn sorted_counties(t: &PublishedTables) -> Vec<&PublishedRow> {
    let mut v: Vec<&PublishedRow> = t.counties.iter().collect();
    v.sort_by(|a, b| {
        let (x, y) = (work_or_education_share(a), work_or_education_share(b));
        y.partial_cmp(&x)
            .unwrap_or(std::cmp::Ordering::Equal)
            .then_with(|| a.code.cmp(&b.code))
    });
    v
}

/// The figures as CSV: section, code, key, value (a plain number, a share as
/// a fraction, empty where suppressed).
pub fn csv(input: &ReportInput<'_>) -> String {
    let mut s = String::from("section,code,key,value\n");
    for f in figures(input) {
        let v = f
            .value
            .map(|v| {
                if v.fract() == 0.0 {
                    format!("{v}")
                } else {
                    format!("{v:.4}")
                }
            })
            .unwrap_or_default();
        let _ = writeln!(s, "{},{},{},{}", f.section, f.code, f.key, v);
    }
    s
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A figure cell: the Norwegian text, and the figure for machines.
fn cell(section: &str, code: &str, key: &str, value: Option<u64>) -> String {
    format!(
        r#"<td class="n" data-section="{section}" data-code="{}" data-key="{key}">{}</td>"#,
        esc(code),
        value.map_or_else(|| ":".to_owned(), number)
    )
}

fn share_cell(section: &str, code: &str, value: Option<f64>) -> String {
    format!(
        r#"<td class="n" data-section="{section}" data-code="{}" data-key="share">{}</td>"#,
        esc(code),
        value.map_or_else(|| ":".to_owned(), percent)
    )
}

/// A figure cell of one published count of a row.
fn count_cell(section: &str, row: &PublishedRow, c: impl Into<Cell>) -> String {
    let c = c.into();
    cell(section, &row.code, c.key(), row.get(c))
}

/// The national average row of the counties' table.
fn average_row(t: &PublishedTables, national: Option<f64>) -> String {
    format!(
        "<tr class=\"average\"><td>Hele landet</td>{}{}{}</tr>\n",
        count_cell("average", &t.nation, Question::Q4),
        count_cell("average", &t.nation, Derived::WorkOrEducation),
        share_cell("average", &t.nation.code, national)
    )
}

/// A horizontal bar chart as inline SVG, with a title and a text equivalent
/// (the table beside it); bars carry their value as text, not colour alone.
fn bars(
    title: &str,
    items: &[(String, Option<f64>, String)],
    marker: Option<(f64, &str)>,
) -> String {
    let width = 640.0;
    let label_w = 190.0;
    let bar_h = 22.0;
    let max = items
        .iter()
        .filter_map(|(_, v, _)| *v)
        .fold(0.0_f64, f64::max)
        .max(marker.map_or(0.0, |m| m.0));
    #[allow(clippy::cast_precision_loss)]
    let height = items.len() as f64 * (bar_h + 6.0) + 20.0;
    let scale = if max > 0.0 {
        (width - label_w - 80.0) / max
    } else {
        0.0
    };
    let mut s = format!(
        r#"<svg role="img" aria-labelledby="t-{id}" viewBox="0 0 {width} {height}" width="100%" style="max-width:{width}px"><title id="t-{id}">{t}</title>"#,
        id = esc(&title.to_lowercase().replace(' ', "-")),
        t = esc(title)
    );
    for (i, (label, value, text)) in items.iter().enumerate() {
        #[allow(clippy::cast_precision_loss)]
        let y = i as f64 * (bar_h + 6.0) + 4.0;
        let w = value.unwrap_or(0.0) * scale;
        let _ = write!(
            s,
            r##"<text x="{lx}" y="{ty}" text-anchor="end" font-size="13">{l}</text><rect x="{label_w}" y="{y}" width="{w:.1}" height="{bar_h}" fill="#1e5aa8"><title>{l}: {v}</title></rect><text x="{tx:.1}" y="{ty}" font-size="13">{v}</text>"##,
            lx = label_w - 8.0,
            ty = y + 16.0,
            l = esc(label),
            tx = label_w + w + 6.0,
            v = esc(text)
        );
    }
    if let Some((at, label)) = marker {
        let x = label_w + at * scale;
        let _ = write!(
            s,
            r##"<line x1="{x:.1}" x2="{x:.1}" y1="0" y2="{height}" stroke="#b00020" stroke-dasharray="4 3"/><text x="{tx:.1}" y="{height}" font-size="12" fill="#b00020">{l}</text>"##,
            tx = x + 4.0,
            l = esc(label)
        );
    }
    s.push_str("</svg>");
    s
}

/// The report page.
pub fn html(input: &ReportInput<'_>) -> String {
    let t = input.tables;
    let y = input.year;
    let mut h = String::new();
    let _ = write!(
        h,
        r#"<!DOCTYPE html>
<html lang="nb"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Introduksjonsordningen: resultater {y}</title>
<style>
body{{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;margin:2rem auto;max-width:60rem;padding:0 1rem;color:#1a1a1a;line-height:1.45}}
h1{{font-size:1.7rem}} h2{{font-size:1.25rem;margin-top:2.2rem;border-bottom:1px solid #ccc}}
table{{border-collapse:collapse;margin:.5rem 0 1rem}} th,td{{padding:.25rem .6rem;border-bottom:1px solid #e2e2e2;text-align:left}}
td.n,th.n{{text-align:right;font-variant-numeric:tabular-nums}} tr.average td{{font-weight:bold;background:#f3f6fb}}
.note{{color:#444;font-size:.92rem}}
</style></head><body>
<main>
<h1>Introduksjonsordningen: resultater {y}</h1>
<p class="note">Tallene er laget fra hendelsesloggen i spor, slik den sto ved hendelse nr. {seq} (kontrollsum {hash}). Tall fra 1 til {k} er skjult og vist som «:», og noen tall til er skjult slik at de ikke kan regnes ut av summene. Kilde for fylkes- og kommunenavn: Statistisk sentralbyrå (SSB).</p>
"#,
        seq = input.head.0,
        hash = esc(&input.head.1[..input.head.1.len().min(16)]),
        k = input.suppressed_up_to
    );
    if !t.withheld_totals.is_empty() {
        h.push_str("<p class=\"note\">Skjult for hele landet: ");
        let list: Vec<String> = t
            .withheld_totals
            .iter()
            .map(|w| format!("{} ({})", esc(w.figure.text()), esc(w.why.bokmal())))
            .collect();
        h.push_str(&list.join("; "));
        h.push_str(".</p>\n");
    }

    // Participants per county.
    h.push_str("<h2>Deltakere per fylke</h2>\n<table><thead><tr><th>Fylke</th><th class=\"n\">Deltakere i løpet av året</th><th class=\"n\">Deltakere ved årets slutt</th><th class=\"n\">Avsluttet i året</th></tr></thead><tbody>\n");
    for row in t.counties.iter().chain([&t.nation]) {
        let name = row.name.clone().unwrap_or_default();
        let _ = writeln!(
            h,
            "<tr{}><td>{}</td>{}{}{}</tr>",
            if row.code == "national" {
                " class=\"average\""
            } else {
                ""
            },
            esc(&name),
            count_cell("participants", row, Question::Q1),
            count_cell("participants", row, Question::Q2),
            count_cell("participants", row, Question::Q4)
        );
    }
    h.push_str("</tbody></table>\n");
    #[allow(clippy::cast_precision_loss)]
    let county_bars: Vec<(String, Option<f64>, String)> = t
        .counties
        .iter()
        .map(|r| {
            let n = r.get(Question::Q1);
            (
                r.name.clone().unwrap_or_default(),
                n.map(|n| n as f64),
                n.map_or_else(|| ":".into(), number),
            )
        })
        .collect();
    h.push_str(&bars(
        "Deltakere i løpet av året per fylke",
        &county_bars,
        None,
    ));

    // Exit mix.
    h.push_str("\n<h2>Hva deltakerne gikk til</h2>\n<table><thead><tr><th>Hovedaktivitet ved avslutning</th><th class=\"n\">Antall</th><th class=\"n\">Andel</th></tr></thead><tbody>\n");
    let ended = t.nation.get(Question::Q4);
    let mut mix_bars = Vec::new();
    for (key, label, parts) in EXIT_MIX {
        let n = sum(&t.nation, parts);
        let _ = writeln!(
            h,
            "<tr><td>{label}</td>{}<td class=\"n\">{}</td></tr>",
            cell("exit_mix", "national", key, n),
            share(n, ended).map_or_else(|| ":".into(), percent)
        );
        #[allow(clippy::cast_precision_loss)]
        mix_bars.push((
            label.to_owned(),
            n.map(|n| n as f64),
            n.map_or_else(|| ":".into(), number),
        ));
    }
    h.push_str("</tbody></table>\n");
    h.push_str(&bars(
        "Hovedaktivitet ved avslutning, hele landet",
        &mix_bars,
        None,
    ));

    // Counties by share in work or education.
    let national = work_or_education_share(&t.nation);
    h.push_str("\n<h2>Arbeid eller utdanning ved avslutning, per fylke</h2>\n<p class=\"note\">Målet er at 60 % går til arbeid eller utdanning. Sortert etter andel; landsgjennomsnittet er uthevet.</p>\n<table><thead><tr><th>Fylke</th><th class=\"n\">Avsluttet</th><th class=\"n\">Arbeid eller utdanning</th><th class=\"n\">Andel</th></tr></thead><tbody>\n");
    let mut average_shown = false;
    let mut share_bars = Vec::new();
    for row in sorted_counties(t) {
        let s = work_or_education_share(row);
        if !average_shown && s.is_none_or(|s| national.is_some_and(|n| s < n)) {
            h.push_str(&average_row(t, national));
            average_shown = true;
        }
        let _ = writeln!(
            h,
            "<tr><td>{}</td>{}{}{}</tr>",
            esc(row.name.as_deref().unwrap_or("")),
            count_cell("counties", row, Question::Q4),
            count_cell("counties", row, Derived::WorkOrEducation),
            share_cell("counties", &row.code, s)
        );
        share_bars.push((
            row.name.clone().unwrap_or_default(),
            s.map(|s| s * 100.0),
            s.map_or_else(|| ":".into(), percent),
        ));
    }
    if !average_shown {
        h.push_str(&average_row(t, national));
    }
    h.push_str("</tbody></table>\n");
    let average_label = format!("Landet {}", national.map_or_else(|| ":".into(), percent));
    h.push_str(&bars(
        "Andel i arbeid eller utdanning per fylke",
        &share_bars,
        national.map(|n| (n * 100.0, average_label.as_str())),
    ));

    // Results by size class.
    h.push_str("\n<h2>Resultater etter programmets størrelse</h2>\n<p class=\"note\">Enhetene er gruppert etter antall deltakere i løpet av året. Enheter med én deltaker vises ikke som egen gruppe: tallene deres ville gjelde én person.</p>\n");
    if !t.left_out_classes.is_empty() {
        let _ = writeln!(
            h,
            "<p class=\"note\">Ikke vist: {}. Tallene for gruppen ville gjort det mulig å regne ut skjulte tall for enkeltenheter.</p>",
            esc(&t.left_out_classes.join(", "))
        );
    }
    h.push_str("<table><thead><tr><th>Størrelse</th><th class=\"n\">Deltakere</th><th class=\"n\">Avsluttet</th><th class=\"n\">Arbeid eller utdanning</th><th class=\"n\">Andel</th></tr></thead><tbody>\n");
    for row in &t.size_classes {
        let _ = writeln!(
            h,
            "<tr><td>{}</td>{}{}{}{}</tr>",
            esc(row.name.as_deref().unwrap_or("")),
            count_cell("size", row, Question::Q1),
            count_cell("size", row, Question::Q4),
            count_cell("size", row, Derived::WorkOrEducation),
            share_cell("size", &row.code, work_or_education_share(row))
        );
    }
    h.push_str("</tbody></table>\n");

    // Time in programme and support.
    h.push_str("\n<h2>Tid i programmet og livsopphold ved avslutning</h2>\n<table><thead><tr><th>Tid i programmet</th><th class=\"n\">Antall</th><th class=\"n\">Andel</th></tr></thead><tbody>\n");
    for (c, label) in TIME {
        let n = t.nation.get(c);
        let _ = writeln!(
            h,
            "<tr><td>{label}</td>{}<td class=\"n\">{}</td></tr>",
            count_cell("time", &t.nation, c),
            share(n, ended).map_or_else(|| ":".into(), percent)
        );
    }
    h.push_str("</tbody></table>\n<table><thead><tr><th>Livsopphold ved avslutning</th><th class=\"n\">Antall</th><th class=\"n\">Andel</th></tr></thead><tbody>\n");
    for (c, label) in support() {
        let n = t.nation.get(c);
        let _ = writeln!(
            h,
            "<tr><td>{label}</td>{}<td class=\"n\">{}</td></tr>",
            count_cell("support", &t.nation, c),
            share(n, ended).map_or_else(|| ":".into(), percent)
        );
    }
    h.push_str("</tbody></table>\n");

    // One-year result.
    h.push_str("\n<h2>Ettårsresultat</h2>\n<p class=\"note\">Av dem som avsluttet som arbeidssøkere: hvor mange var i arbeid eller utdanning ett år etter. Målet er 30 %.</p>\n<table><tbody>\n");
    for (d, label) in ONE_YEAR {
        let _ = writeln!(
            h,
            "<tr><td>{label}</td>{}</tr>",
            count_cell("one_year", &t.nation, d)
        );
    }
    h.push_str("</tbody></table>\n");

    // Follow-up outcomes over time.
    h.push_str("\n<h2>Kontakt etter avslutning</h2>\n<p class=\"note\">For hvert avslutningsår (fullført eller stanset): hvor mange som ble nådd 2, 6 og 12 måneder etter, og hvor stor andel av dem som var i arbeid eller utdanning.</p>\n<table><thead><tr><th>År</th><th class=\"n\">Avsluttet</th>");
    for m in POINTS {
        let _ = write!(
            h,
            "<th class=\"n\">Nådd {m} mnd</th><th class=\"n\">Arbeid/utdanning {m} mnd</th><th class=\"n\">Andel</th>"
        );
    }
    h.push_str("</tr></thead><tbody>\n");
    let k = input.suppressed_up_to;
    let hide = |n: u64| if n > 0 && n <= k { None } else { Some(n) };
    let mut outcome_bars = Vec::new();
    for c in input.cohorts {
        let code = c.year.to_string();
        let _ = write!(
            h,
            "<tr><td>{}</td>{}",
            c.year,
            cell("outcomes", &code, "ended", hide(c.ended))
        );
        for (i, m) in POINTS.iter().enumerate() {
            let (r, w) = (hide(c.reached[i]), hide(c.work_or_education[i]));
            let s = share(w, r);
            let _ = write!(
                h,
                "{}{}<td class=\"n\">{}</td>",
                cell("outcomes", &code, &format!("reached_{m}"), r),
                cell("outcomes", &code, &format!("work_or_education_{m}"), w),
                s.map_or_else(|| ":".into(), percent)
            );
            outcome_bars.push((
                format!("{} etter {m} mnd", c.year),
                s.map(|s| s * 100.0),
                s.map_or_else(|| ":".into(), percent),
            ));
        }
        h.push_str("</tr>\n");
    }
    h.push_str("</tbody></table>\n");
    h.push_str(&bars(
        "Andel i arbeid eller utdanning blant dem som ble nådd",
        &outcome_bars,
        None,
    ));

    // Data quality.
    h.push_str("\n<h2>Datakvalitet per 31. desember</h2>\n<table><thead><tr><th>Funn</th><th class=\"n\">Antall</th></tr></thead><tbody>\n");
    for (rule, n) in input.findings {
        let _ = writeln!(
            h,
            "<tr><td>{}</td>{}</tr>",
            esc(format::rule_label(rule)),
            cell(
                "quality",
                "national",
                rule,
                Some(u64::try_from(*n).unwrap_or(u64::MAX))
            )
        );
    }
    h.push_str("</tbody></table>\n</main>\n</body></html>\n");
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The report's exit mix regroups q7a..q12c: each in exactly one group,
    /// so the groups add up to q4 as the answers do.
    #[test]
    fn the_exit_mix_holds_each_exit_question_once() {
        let mut grouped: Vec<Question> = EXIT_MIX
            .iter()
            .flat_map(|(_, _, qs)| qs.iter().copied())
            .collect();
        grouped.sort_unstable();
        let mut expected = Question::EXIT_MIX.to_vec();
        expected.sort_unstable();
        assert_eq!(grouped, expected);
    }
}
