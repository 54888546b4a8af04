//! The national report (issue 4, made fit to publish in issue 10): the
//! year-end survey in the shape of the directorate's 2007 report, as one
//! self-contained HTML page (inline CSS, no script, nothing loaded from
//! elsewhere) and the same figures as CSV.
//!
//! Holds: the report as tables and charts ([`model`]), its templates
//! (`templates/`, askama), and Norwegian number formats. Never: files, the
//! clock or the network; it renders what it is given. Every figure comes
//! from the published (suppressed) tables, so the page never shows a count
//! that singles out a person. Every figure cell carries `data-section`,
//! `data-code` and `data-key`, so tests (and anyone) can read the figures
//! back and compare them with `spor survey`.

mod format;
pub mod model;

use askama::Template;
use chrono::{DateTime, NaiveDate, Utc};
pub use format::{number, percent};
use spor_projections::Projections;
use spor_projections::lint::{LintLimits, LintRule, findings};
use spor_projections::outcomes::{Cohort, cohorts};
use spor_projections::publish::{PublishedTables, publish_all};
use spor_projections::survey::{Grouping, Question, SurveyRequest};

use crate::model::Report;

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
    /// When the report was made.
    pub made_at: DateTime<Utc>,
    /// The survey's figures are of the events recorded up to this time;
    /// `None`: every event recorded when it was made.
    pub known_at: Option<DateTime<Utc>>,
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
    pub known_at: Option<DateTime<Utc>>,
}

impl Gathered {
    /// Reads the report's figures of `year` from `projections`, as known at
    /// `known_at` (or now); the one-year indicator is taken on `as_of`.
    pub fn from(
        projections: &Projections,
        year: i32,
        known_at: Option<DateTime<Utc>>,
        as_of: NaiveDate,
        up_to: u64,
        limits: LintLimits,
    ) -> Self {
        let request = SurveyRequest {
            year,
            by: Grouping::County,
            known_at,
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
            (
                "registered_twice",
                count(|r| matches!(r, LintRule::RegisteredTwice { .. })),
            ),
        ];
        let cohorts = cohorts(projections, year - 3, year);
        Self {
            year,
            tables,
            suppressed_up_to: up_to,
            findings,
            cohorts,
            known_at,
        }
    }

    /// The report's input, with the log's head (sequence number, hash) and
    /// the time it is made.
    pub fn input(&self, head: (u64, String), made_at: DateTime<Utc>) -> ReportInput<'_> {
        ReportInput {
            year: self.year,
            tables: &self.tables,
            suppressed_up_to: self.suppressed_up_to,
            findings: &self.findings,
            head,
            cohorts: &self.cohorts,
            made_at,
            known_at: self.known_at,
        }
    }
}

/// The report page: one self-contained HTML document (inline CSS, no
/// script, nothing loaded from elsewhere), `templates/report.html` laid
/// over [`Report`].
pub fn html(input: &ReportInput<'_>) -> String {
    // Rendering into a String fails only where a value's Display does,
    // and every value here is a string or a number.
    Report::of(input)
        .render()
        .unwrap_or_else(|e| format!("<!DOCTYPE html><p>{e}</p>"))
}

/// The columns of `report.csv`, in bokmål.
pub const CSV_HEADER: [&str; 6] = ["tabell", "kode", "rad", "nøkkel", "tall", "verdi"];

/// Every figure of the page, one per line, for a spreadsheet: UTF-8 with a
/// byte-order mark, written with the csv crate. The table's caption, the
/// row's code and name, the figure's key and wording (the questionnaire's
/// for an answer: `q1 Deltakere i løpet av året`), and the value: a plain
/// number, a share in percent with one decimal point, `:` where withheld,
/// `.` where it cannot be computed.
pub fn csv(input: &ReportInput<'_>) -> std::io::Result<Vec<u8>> {
    let report = Report::of(input);
    let mut w = ::csv::Writer::from_writer(b"\xEF\xBB\xBF".to_vec());
    w.write_record(CSV_HEADER)?;
    for (table, row, column, value) in report.figures() {
        let wording = match column.key.parse::<Question>() {
            Ok(q) => format!("{q} {}", column.label),
            Err(_) => column.label.clone(),
        };
        w.write_record([
            table.caption.as_str(),
            &row.code,
            &row.name,
            &column.key,
            &wording,
            &value.plain(),
        ])?;
    }
    w.into_inner().map_err(|e| e.into_error())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The report's exit mix regroups q7a..q12c: each in exactly one group,
    /// so the groups add up to q4 as the answers do.
    #[test]
    fn the_exit_mix_holds_each_exit_question_once() {
        let mut grouped: Vec<Question> = model::EXIT_MIX
            .iter()
            .flat_map(|(_, _, qs)| qs.iter().copied())
            .collect();
        grouped.sort_unstable();
        let mut expected = Question::EXIT_MIX.to_vec();
        expected.sort_unstable();
        assert_eq!(grouped, expected);
    }
}
