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

pub use format::{number, percent};
use chrono::NaiveDate;
use spor_projections::Projections;
use spor_projections::lint::{LintLimits, LintRule, findings};
use spor_projections::outcomes::{Cohort, POINTS, cohorts};
use spor_projections::publish::{PublishedRow, PublishedTables, publish_all};
use spor_projections::survey::{Grouping, SurveyRequest};

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
    pub fn from(projections: &Projections, year: i32, as_of: NaiveDate, up_to: u64, limits: LintLimits) -> Self {
        let request = SurveyRequest { year, by: Grouping::County, known_at: None, as_of };
        let tables = publish_all(projections, &request, up_to);
        let year_end = NaiveDate::from_ymd_opt(year, 12, 31).unwrap_or(NaiveDate::MAX);
        let found = findings(projections, year_end, None, limits);
        let count = |pick: fn(&LintRule) -> bool| found.iter().filter(|f| pick(&f.rule)).count();
        let findings = vec![
            ("past_planned_end", count(|r| matches!(r, LintRule::PastPlannedEnd { .. }))),
            ("no_event_for", count(|r| matches!(r, LintRule::NoEventFor { .. }))),
            ("exit_recorded_late", count(|r| matches!(r, LintRule::ExitRecordedLate { .. }))),
            ("leave_without_return", count(|r| matches!(r, LintRule::LeaveWithoutReturn { .. }))),
            ("unit_not_in_code_table", count(|r| matches!(r, LintRule::UnitNotInCodeTable))),
        ];
        let cohorts = cohorts(projections, year - 3, year);
        Self { year, tables, suppressed_up_to: up_to, findings, cohorts }
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

/// The exit mix of the report: (key, label, the answers summed).
const EXIT_MIX: [(&str, &str, &[&str]); 8] = [
    ("work", "Arbeid", &["q10a", "q11a"]),
    ("education", "Utdanning", &["q9a", "q9b"]),
    ("primary_school", "Grunnskole", &["q12a"]),
    ("measures", "Tiltak", &["q11b", "q12b"]),
    ("health", "Helse", &["q8a"]),
    ("no_activity", "Ingen aktivitet", &["q12c"]),
    ("moved", "Flyttet", &["q7b"]),
    ("other", "Annet, ukjent, død", &["q7a", "q7c", "q8b"]),
];

fn sum(row: &PublishedRow, keys: &[&str]) -> Option<u64> {
    keys.iter().map(|k| row.get(k)).sum()
}

#[allow(clippy::cast_precision_loss)] // counts far below 2^52
fn share(part: Option<u64>, whole: Option<u64>) -> Option<f64> {
    match (part, whole) {
        (Some(p), Some(w)) if w > 0 => Some(p as f64 / w as f64),
        _ => None,
    }
}

/// Every figure of the report, in page order: what the HTML shows and the
/// CSV lists.
pub fn figures(input: &ReportInput<'_>) -> Vec<Figure> {
    let mut out = Vec::new();
    let t = input.tables;
    #[allow(clippy::cast_precision_loss)]
    let mut add = |section: &'static str, code: &str, key: &str, value: Option<f64>| {
        out.push(Figure { section, code: code.to_owned(), key: key.to_owned(), value });
    };
    #[allow(clippy::cast_precision_loss)]
    let f = |n: Option<u64>| n.map(|n| n as f64);
    for row in t.counties.iter().chain([&t.nation]) {
        for key in ["q1", "q2", "q4"] {
            add("participants", &row.code, key, f(row.get(key)));
        }
    }
    for (key, _, parts) in EXIT_MIX {
        add("exit_mix", "national", key, f(sum(&t.nation, parts)));
    }
    for row in sorted_counties(t) {
        add("counties", &row.code, "q4", f(row.get("q4")));
        add("counties", &row.code, "work_or_education", f(row.get("work_or_education")));
        add("counties", &row.code, "share", share(row.get("work_or_education"), row.get("q4")));
    }
    for row in &t.size_classes {
        add("size", &row.code, "q1", f(row.get("q1")));
        add("size", &row.code, "q4", f(row.get("q4")));
        add("size", &row.code, "work_or_education", f(row.get("work_or_education")));
        add("size", &row.code, "share", share(row.get("work_or_education"), row.get("q4")));
    }
    for key in ["q5", "two_years", "q6"] {
        add("time", "national", key, f(t.nation.get(key)));
    }
    for key in ["q13a", "q13b", "q13c", "no_support"] {
        add("support", "national", key, f(t.nation.get(key)));
    }
    for key in ["one_year_jobseekers", "one_year_reached", "one_year_work_or_education", "one_year_not_reached", "one_year_pending"] {
        add("one_year", "national", key, f(t.nation.get(key)));
    }
    for c in input.cohorts {
        let hide = |n: u64| (n > 0 && n <= input.suppressed_up_to).then_some(()).map_or(Some(n), |()| None);
        let code = c.year.to_string();
        add("outcomes", &code, "ended", f(hide(c.ended)));
        for (i, m) in POINTS.iter().enumerate() {
            add("outcomes", &code, &format!("reached_{m}"), f(hide(c.reached[i])));
            add("outcomes", &code, &format!("work_or_education_{m}"), f(hide(c.work_or_education[i])));
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
        let (x, y) = (share(a.get("work_or_education"), a.get("q4")), share(b.get("work_or_education"), b.get("q4")));
        y.partial_cmp(&x).unwrap_or(std::cmp::Ordering::Equal).then_with(|| a.code.cmp(&b.code))
    });
    v
}

/// The figures as CSV: section, code, key, value (a plain number, a share as
/// a fraction, empty where suppressed).
pub fn csv(input: &ReportInput<'_>) -> String {
    let mut s = String::from("section,code,key,value\n");
    for f in figures(input) {
        let v = f.value.map(|v| if v.fract() == 0.0 { format!("{v}") } else { format!("{v:.4}") }).unwrap_or_default();
        let _ = writeln!(s, "{},{},{},{}", f.section, f.code, f.key, v);
    }
    s
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
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

/// A horizontal bar chart as inline SVG, with a title and a text equivalent
/// (the table beside it); bars carry their value as text, not colour alone.
fn bars(title: &str, items: &[(String, Option<f64>, String)], marker: Option<(f64, &str)>) -> String {
    let width = 640.0;
    let label_w = 190.0;
    let bar_h = 22.0;
    let max = items.iter().filter_map(|(_, v, _)| *v).fold(0.0_f64, f64::max).max(marker.map_or(0.0, |m| m.0));
    #[allow(clippy::cast_precision_loss)]
    let height = items.len() as f64 * (bar_h + 6.0) + 20.0;
    let scale = if max > 0.0 { (width - label_w - 80.0) / max } else { 0.0 };
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

    // Participants per county.
    h.push_str("<h2>Deltakere per fylke</h2>\n<table><thead><tr><th>Fylke</th><th class=\"n\">Deltakere i løpet av året</th><th class=\"n\">Deltakere ved årets slutt</th><th class=\"n\">Avsluttet i året</th></tr></thead><tbody>\n");
    for row in t.counties.iter().chain([&t.nation]) {
        let name = row.name.clone().unwrap_or_default();
        let _ = writeln!(
            h,
            "<tr{}><td>{}</td>{}{}{}</tr>",
            if row.code == "national" { " class=\"average\"" } else { "" },
            esc(&name),
            cell("participants", &row.code, "q1", row.get("q1")),
            cell("participants", &row.code, "q2", row.get("q2")),
            cell("participants", &row.code, "q4", row.get("q4"))
        );
    }
    h.push_str("</tbody></table>\n");
    #[allow(clippy::cast_precision_loss)]
    let county_bars: Vec<(String, Option<f64>, String)> = t
        .counties
        .iter()
        .map(|r| (r.name.clone().unwrap_or_default(), r.get("q1").map(|n| n as f64), r.get("q1").map_or_else(|| ":".into(), number)))
        .collect();
    h.push_str(&bars("Deltakere i løpet av året per fylke", &county_bars, None));

    // Exit mix.
    h.push_str("\n<h2>Hva deltakerne gikk til</h2>\n<table><thead><tr><th>Hovedaktivitet ved avslutning</th><th class=\"n\">Antall</th><th class=\"n\">Andel</th></tr></thead><tbody>\n");
    let ended = t.nation.get("q4");
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
        mix_bars.push((label.to_owned(), n.map(|n| n as f64), n.map_or_else(|| ":".into(), number)));
    }
    h.push_str("</tbody></table>\n");
    h.push_str(&bars("Hovedaktivitet ved avslutning, hele landet", &mix_bars, None));

    // Counties by share in work or education.
    let national = share(t.nation.get("work_or_education"), t.nation.get("q4"));
    h.push_str("\n<h2>Arbeid eller utdanning ved avslutning, per fylke</h2>\n<p class=\"note\">Målet er at 60 % går til arbeid eller utdanning. Sortert etter andel; landsgjennomsnittet er uthevet.</p>\n<table><thead><tr><th>Fylke</th><th class=\"n\">Avsluttet</th><th class=\"n\">Arbeid eller utdanning</th><th class=\"n\">Andel</th></tr></thead><tbody>\n");
    let mut average_shown = false;
    let mut share_bars = Vec::new();
    for row in sorted_counties(t) {
        let s = share(row.get("work_or_education"), row.get("q4"));
        if !average_shown && s.is_none_or(|s| national.is_some_and(|n| s < n)) {
            let _ = writeln!(
                h,
                "<tr class=\"average\"><td>Hele landet</td>{}{}{}</tr>",
                cell("average", "national", "q4", t.nation.get("q4")),
                cell("average", "national", "work_or_education", t.nation.get("work_or_education")),
                share_cell("average", "national", national)
            );
            average_shown = true;
        }
        let _ = writeln!(
            h,
            "<tr><td>{}</td>{}{}{}</tr>",
            esc(row.name.as_deref().unwrap_or("")),
            cell("counties", &row.code, "q4", row.get("q4")),
            cell("counties", &row.code, "work_or_education", row.get("work_or_education")),
            share_cell("counties", &row.code, s)
        );
        share_bars.push((row.name.clone().unwrap_or_default(), s.map(|s| s * 100.0), s.map_or_else(|| ":".into(), percent)));
    }
    if !average_shown {
        let _ = writeln!(h, "<tr class=\"average\"><td>Hele landet</td>{}{}{}</tr>", cell("average", "national", "q4", t.nation.get("q4")), cell("average", "national", "work_or_education", t.nation.get("work_or_education")), share_cell("average", "national", national));
    }
    h.push_str("</tbody></table>\n");
    let average_label = format!("Landet {}", national.map_or_else(|| ":".into(), percent));
    h.push_str(&bars("Andel i arbeid eller utdanning per fylke", &share_bars, national.map(|n| (n * 100.0, average_label.as_str()))));

    // Results by size class.
    h.push_str("\n<h2>Resultater etter programmets størrelse</h2>\n<p class=\"note\">Enhetene er gruppert etter antall deltakere i løpet av året. Enheter med én deltaker vises ikke som egen gruppe: tallene deres ville gjelde én person.</p>\n<table><thead><tr><th>Størrelse</th><th class=\"n\">Deltakere</th><th class=\"n\">Avsluttet</th><th class=\"n\">Arbeid eller utdanning</th><th class=\"n\">Andel</th></tr></thead><tbody>\n");
    for row in &t.size_classes {
        let _ = writeln!(
            h,
            "<tr><td>{}</td>{}{}{}{}</tr>",
            esc(row.name.as_deref().unwrap_or("")),
            cell("size", &row.code, "q1", row.get("q1")),
            cell("size", &row.code, "q4", row.get("q4")),
            cell("size", &row.code, "work_or_education", row.get("work_or_education")),
            share_cell("size", &row.code, share(row.get("work_or_education"), row.get("q4")))
        );
    }
    h.push_str("</tbody></table>\n");

    // Time in programme and support.
    h.push_str("\n<h2>Tid i programmet og livsopphold ved avslutning</h2>\n<table><thead><tr><th>Tid i programmet</th><th class=\"n\">Antall</th><th class=\"n\">Andel</th></tr></thead><tbody>\n");
    for (key, label) in [("q5", "Under to år"), ("two_years", "To år"), ("q6", "Over to år")] {
        let n = t.nation.get(key);
        let _ = writeln!(h, "<tr><td>{label}</td>{}<td class=\"n\">{}</td></tr>", cell("time", "national", key, n), share(n, ended).map_or_else(|| ":".into(), percent));
    }
    h.push_str("</tbody></table>\n<table><thead><tr><th>Livsopphold ved avslutning</th><th class=\"n\">Antall</th><th class=\"n\">Andel</th></tr></thead><tbody>\n");
    for (key, label) in [("q13a", "Sosialhjelp"), ("q13b", "Trygdeytelse"), ("q13c", "Annen livsopphold"), ("no_support", "Ingen av disse")] {
        let n = t.nation.get(key);
        let _ = writeln!(h, "<tr><td>{label}</td>{}<td class=\"n\">{}</td></tr>", cell("support", "national", key, n), share(n, ended).map_or_else(|| ":".into(), percent));
    }
    h.push_str("</tbody></table>\n");

    // One-year result.
    h.push_str("\n<h2>Ettårsresultat</h2>\n<p class=\"note\">Av dem som avsluttet som arbeidssøkere: hvor mange var i arbeid eller utdanning ett år etter. Målet er 30 %.</p>\n<table><tbody>\n");
    for (key, label) in [
        ("one_year_jobseekers", "Arbeidssøkere ved avslutning"),
        ("one_year_reached", "Nådd etter 12 måneder"),
        ("one_year_work_or_education", "I arbeid eller utdanning"),
        ("one_year_not_reached", "Ikke nådd"),
        ("one_year_pending", "Venter på kontakt"),
    ] {
        let _ = writeln!(h, "<tr><td>{label}</td>{}</tr>", cell("one_year", "national", key, t.nation.get(key)));
    }
    h.push_str("</tbody></table>\n");

    // Follow-up outcomes over time.
    h.push_str("\n<h2>Kontakt etter avslutning</h2>\n<p class=\"note\">For hvert avslutningsår (fullført eller stanset): hvor mange som ble nådd 2, 6 og 12 måneder etter, og hvor stor andel av dem som var i arbeid eller utdanning.</p>\n<table><thead><tr><th>År</th><th class=\"n\">Avsluttet</th>");
    for m in POINTS {
        let _ = write!(h, "<th class=\"n\">Nådd {m} mnd</th><th class=\"n\">Arbeid/utdanning {m} mnd</th><th class=\"n\">Andel</th>");
    }
    h.push_str("</tr></thead><tbody>\n");
    let k = input.suppressed_up_to;
    let hide = |n: u64| if n > 0 && n <= k { None } else { Some(n) };
    let mut outcome_bars = Vec::new();
    for c in input.cohorts {
        let code = c.year.to_string();
        let _ = write!(h, "<tr><td>{}</td>{}", c.year, cell("outcomes", &code, "ended", hide(c.ended)));
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
            outcome_bars.push((format!("{} etter {m} mnd", c.year), s.map(|s| s * 100.0), s.map_or_else(|| ":".into(), percent)));
        }
        h.push_str("</tr>\n");
    }
    h.push_str("</tbody></table>\n");
    h.push_str(&bars("Andel i arbeid eller utdanning blant dem som ble nådd", &outcome_bars, None));

    // Data quality.
    h.push_str("\n<h2>Datakvalitet per 31. desember</h2>\n<table><thead><tr><th>Funn</th><th class=\"n\">Antall</th></tr></thead><tbody>\n");
    for (rule, n) in input.findings {
        let _ = writeln!(h, "<tr><td>{}</td>{}</tr>", esc(format::rule_label(rule)), cell("quality", "national", rule, Some(u64::try_from(*n).unwrap_or(u64::MAX))));
    }
    h.push_str("</tbody></table>\n</main>\n</body></html>\n");
    h
}
