//! The year-end survey (resultatrapportering, contract §2): each
//! participant's contribution to the answers q1..q13c for a calendar year,
//! summed by unit, county and the whole country, and the indicators beside
//! them.
//!
//! Every count is a sum of per-participant contributions (0 or 1 each), so a
//! county is the sum of its units and the nation of its counties by
//! construction, and `q1 = q2 + q4` and `q7a + … + q12c = q4` hold in every
//! row because they hold for every participant (the tests check both).

use std::collections::BTreeMap;
use std::fmt;
use std::ops::{AddAssign, SubAssign};
use std::str::FromStr;

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use spor_domain::event::{Exit, InterruptedReason, MainActivity, StoppedReason, Support};
use spor_domain::timeline::{Entry, Facts};
use spor_domain::{CountyCode, ParticipantId, Timeline, UnitCode, calendar};

use crate::Projections;

/// How rows are grouped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Grouping {
    Unit,
    County,
    National,
}

/// Which survey to compute.
#[derive(Debug, Clone, Copy)]
pub struct SurveyRequest {
    pub year: i32,
    pub by: Grouping,
    /// Count only events recorded at or before this time (the survey as it
    /// could have been answered then). A retraction recorded later does not
    /// apply.
    pub known_at: Option<DateTime<Utc>>,
    /// The day the one-year indicator is taken on: a 12-month contact whose
    /// window has not closed by then is pending, not "not reached".
    pub as_of: NaiveDate,
}

/// A question of the survey (contract §2), q1 to q13c. The key (`q7a`) is
/// what the JSON, the CSV header and `survey explain --key` spell; it is
/// the name of the matching [`Answers`] field, and serde writes and reads a
/// question as its key. Declared in questionnaire order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Question {
    /// Started on or before 31 December, and not ended before 1 January.
    Q1,
    /// Started on or before 31 December, and not ended on or before it.
    Q2,
    /// Of q2, on leave (permisjon) on 31 December.
    Q3,
    /// Ended in the year.
    Q4,
    /// Of q4, not in q6, ended before start + 24 months + days on leave.
    Q5,
    /// Of q4, granted over 24 months after extensions.
    Q6,
    /// Interrupted (avbrutt) by death.
    Q7a,
    /// Interrupted by a move.
    Q7b,
    /// Interrupted for an unknown reason.
    Q7c,
    /// Stopped (stans) for health.
    Q8a,
    /// Stopped for behaviour.
    Q8b,
    /// Ended to upper secondary school.
    Q9a,
    /// Ended to higher education.
    Q9b,
    /// Ended to work.
    Q10a,
    /// Ended to wage subsidy (lønnstilskudd).
    Q11a,
    /// Ended to another NAV measure.
    Q11b,
    /// Ended to primary school.
    Q12a,
    /// Ended to another measure.
    Q12b,
    /// Ended to no activity.
    Q12c,
    /// Ended with social assistance (sosialhjelp).
    Q13a,
    /// Ended with an insurance benefit (trygdeytelse).
    Q13b,
    /// Ended with other support.
    Q13c,
}

impl Question {
    /// Every question, in questionnaire order (the order of the JSON keys).
    pub const ALL: [Question; 22] = {
        use Question::*;
        [
            Q1, Q2, Q3, Q4, Q5, Q6, Q7a, Q7b, Q7c, Q8a, Q8b, Q9a, Q9b, Q10a, Q11a, Q11b, Q12a,
            Q12b, Q12c, Q13a, Q13b, Q13c,
        ]
    };

    /// The questions that place an exit by its reason or main activity,
    /// q7a to q12c: every exit is in exactly one, so they add up to q4.
    pub const EXIT_MIX: [Question; 13] = {
        use Question::*;
        [
            Q7a, Q7b, Q7c, Q8a, Q8b, Q9a, Q9b, Q10a, Q11a, Q11b, Q12a, Q12b, Q12c,
        ]
    };

    /// The kinds of support at exit, q13a to q13c: an exit may have any
    /// number of them.
    pub const SUPPORT: [Question; 3] = [Question::Q13a, Question::Q13b, Question::Q13c];

    /// The question's place in [`Question::ALL`] and [`QUESTIONS`].
    pub const fn index(self) -> usize {
        // A fieldless enum's discriminant is its place in the declaration,
        // which is questionnaire order (checked at compile time below).
        self as usize
    }

    /// The questionnaire's short Norwegian wording (from [`QUESTIONS`]).
    pub const fn text(self) -> &'static str {
        QUESTIONS[self.index()].1
    }
}

/// The questions with the questionnaire's short Norwegian wording, in
/// questionnaire order: the one table of the texts.
pub const QUESTIONS: [(Question, &str); 22] = [
    (Question::Q1, "Deltakere i løpet av året"),
    (Question::Q2, "Deltakere ved årets slutt"),
    (Question::Q3, "Av disse i permisjon"),
    (Question::Q4, "Avsluttet i løpet av året"),
    (Question::Q5, "Avsluttet på under to år"),
    (Question::Q6, "Innvilget mer enn to år"),
    (Question::Q7a, "Avbrutt: død"),
    (Question::Q7b, "Avbrutt: flyttet"),
    (Question::Q7c, "Avbrutt: ukjent årsak"),
    (Question::Q8a, "Stans: helse"),
    (Question::Q8b, "Stans: atferd"),
    (Question::Q9a, "Videregående opplæring"),
    (Question::Q9b, "Høyere utdanning"),
    (Question::Q10a, "Ordinært arbeid"),
    (Question::Q11a, "Lønnstilskudd"),
    (Question::Q11b, "Andre NAV-tiltak"),
    (Question::Q12a, "Grunnskole"),
    (Question::Q12b, "Andre tiltak"),
    (Question::Q12c, "Ingen aktivitet"),
    (Question::Q13a, "Sosialhjelp"),
    (Question::Q13b, "Trygdeytelse"),
    (Question::Q13c, "Annet livsopphold"),
];

// `index` and `text` read `ALL` and `QUESTIONS` by position: both must list
// every question in declaration order.
const _: () = {
    let mut i = 0;
    while i < Question::ALL.len() {
        assert!(
            Question::ALL[i].index() == i,
            "Question::ALL is in declaration order"
        );
        assert!(
            QUESTIONS[i].0.index() == i,
            "QUESTIONS is in declaration order"
        );
        i += 1;
    }
};

/// The answers q1..q13c. Field order is the questionnaire's, and each
/// field is named by its question's key.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Answers {
    pub q1: u64,
    pub q2: u64,
    pub q3: u64,
    pub q4: u64,
    pub q5: u64,
    pub q6: u64,
    pub q7a: u64,
    pub q7b: u64,
    pub q7c: u64,
    pub q8a: u64,
    pub q8b: u64,
    pub q9a: u64,
    pub q9b: u64,
    pub q10a: u64,
    pub q11a: u64,
    pub q11b: u64,
    pub q12a: u64,
    pub q12b: u64,
    pub q12c: u64,
    pub q13a: u64,
    pub q13b: u64,
    pub q13c: u64,
}

/// [`Question::key`], [`Answers::get`] and [`Answers::slot`] from one list
/// of (question, field), so that a key is spelled once, as its field's
/// name, and the three cannot disagree.
macro_rules! question_fields {
    ($($q:ident => $f:ident),+ $(,)?) => {
        impl Question {
            /// The key, as the JSON and the command line spell it: `q7a`.
            pub const fn key(self) -> &'static str {
                match self {
                    $(Question::$q => stringify!($f),)+
                }
            }
        }

        impl Answers {
            /// The answer to one question.
            pub const fn get(&self, question: Question) -> u64 {
                match question {
                    $(Question::$q => self.$f,)+
                }
            }

            /// The answer to one question, to change.
            fn slot(&mut self, question: Question) -> &mut u64 {
                match question {
                    $(Question::$q => &mut self.$f,)+
                }
            }
        }
    };
}

question_fields! {
    Q1 => q1, Q2 => q2, Q3 => q3, Q4 => q4, Q5 => q5, Q6 => q6,
    Q7a => q7a, Q7b => q7b, Q7c => q7c, Q8a => q8a, Q8b => q8b,
    Q9a => q9a, Q9b => q9b, Q10a => q10a, Q11a => q11a, Q11b => q11b,
    Q12a => q12a, Q12b => q12b, Q12c => q12c, Q13a => q13a, Q13b => q13b, Q13c => q13c,
}

impl fmt::Display for Question {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.key())
    }
}

/// A key that names no question, with every key that does.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a survey question; the keys are {keys}", keys = valid_keys())]
pub struct UnknownKey(pub String);

/// Every key, comma-separated, for messages.
fn valid_keys() -> String {
    Question::ALL.map(Question::key).join(", ")
}

impl FromStr for Question {
    type Err = UnknownKey;

    /// Reads a key (`q7a`), exactly as [`Question::key`] spells it.
    fn from_str(s: &str) -> Result<Self, UnknownKey> {
        Question::ALL
            .into_iter()
            .find(|q| q.key() == s)
            .ok_or_else(|| UnknownKey(s.to_owned()))
    }
}

impl Serialize for Question {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.key())
    }
}

impl<'de> Deserialize<'de> for Question {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let key = String::deserialize(d)?;
        key.parse().map_err(serde::de::Error::custom)
    }
}

impl Answers {
    /// The answers as (question, count), in questionnaire order.
    pub fn values(&self) -> [(Question, u64); 22] {
        Question::ALL.map(|q| (q, self.get(q)))
    }

    /// q7a + … + q12c ([`Question::EXIT_MIX`]): every exit has exactly one of these.
    pub fn exits_by_reason_or_activity(&self) -> u64 {
        Question::EXIT_MIX.iter().map(|q| self.get(*q)).sum()
    }
}

/// `+=` and `-=` answer by answer.
impl AddAssign for Answers {
    fn add_assign(&mut self, o: Self) {
        for q in Question::ALL {
            *self.slot(q) += o.get(q);
        }
    }
}

impl SubAssign for Answers {
    fn sub_assign(&mut self, o: Self) {
        for q in Question::ALL {
            *self.slot(q) -= o.get(q);
        }
    }
}

/// `+=` and `-=` field by field (the sums a settle keeps move both ways).
macro_rules! field_ops {
    ($t:ty; $($f:ident),+) => {
        impl AddAssign for $t {
            fn add_assign(&mut self, o: Self) {
                $(self.$f += o.$f;)+
            }
        }
        impl SubAssign for $t {
            fn sub_assign(&mut self, o: Self) {
                $(self.$f -= o.$f;)+
            }
        }
    };
}

/// A unit's size by participants in the year (q1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SizeClass {
    /// 0 or 1 participant.
    Single,
    /// 2 to 39.
    Small,
    /// 40 to 99.
    Medium,
    /// 100 or more.
    Large,
}

impl SizeClass {
    /// The class's key, as in the JSON: `single`, `small`, `medium`, `large`.
    pub const fn key(self) -> &'static str {
        match self {
            Self::Single => "single",
            Self::Small => "small",
            Self::Medium => "medium",
            Self::Large => "large",
        }
    }

    pub fn of(q1: u64) -> Self {
        match q1 {
            0..=1 => Self::Single,
            2..=39 => Self::Small,
            40..=99 => Self::Medium,
            _ => Self::Large,
        }
    }
}

/// The indicators the report derives (contract §2).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Indicators {
    /// Ordinary work + wage subsidy (q10a + q11a).
    pub work: u64,
    /// Upper secondary + higher education (q9a + q9b).
    pub education: u64,
    pub work_or_education: u64,
    /// work_or_education / q4, against the 60 % target; `None` (and left
    /// out of the JSON) when q4 is 0.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub work_or_education_share: Option<f64>,
    pub under_two_years: u64,
    pub two_years: u64,
    pub over_two_years: u64,
    /// Exits with at least one kind of support.
    pub any_support: u64,
    pub no_support: u64,
    /// For unit rows only.
    pub size_class: Option<SizeClass>,
}

/// The ministry's target for the share in work or education at exit.
pub const TARGET_WORK_OR_EDUCATION: f64 = 0.6;

impl Indicators {
    fn of(a: &Answers, any_support: u64, size_class: Option<SizeClass>) -> Self {
        let work = a.q10a + a.q11a;
        let education = a.q9a + a.q9b;
        let work_or_education = work + education;
        #[allow(clippy::cast_precision_loss)] // counts far below 2^52
        let share = (a.q4 > 0).then(|| work_or_education as f64 / a.q4 as f64);
        Self {
            work,
            education,
            work_or_education,
            work_or_education_share: share,
            under_two_years: a.q5,
            two_years: a.q4 - a.q5 - a.q6,
            over_two_years: a.q6,
            any_support,
            no_support: a.q4 - any_support,
            size_class,
        }
    }
}

/// One row: a unit, a county or the country.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Row {
    pub code: String,
    /// The name valid in the survey's year; `None` for a unit number the
    /// shipped table does not know.
    pub name: Option<String>,
    pub answers: Answers,
    pub indicators: Indicators,
    /// The one-year result of those who ended in the year as job seekers.
    pub one_year: OneYear,
}

/// The totals over all rows.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Total {
    pub answers: Answers,
    pub indicators: Indicators,
    pub one_year: OneYear,
}

/// A computed survey, in the shape of contract §2's JSON.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Survey {
    pub year: i32,
    pub by: Grouping,
    pub rows: Vec<Row>,
    pub total: Total,
    /// Unit numbers counted (under their county) that the shipped table does
    /// not know in the survey's year.
    pub unknown_units: Vec<String>,
}

/// One participant's contribution: answers of 0 or 1, whether their exit
/// carried support, and their part of the one-year indicator.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Contribution {
    pub answers: Answers,
    pub any_support: u64,
    pub one_year: OneYear,
}

/// The one-year result (contract §3), per exit year: of those who ended as
/// job seekers (main activity wage subsidy, NAV measure or other measure),
/// how many were reached by the 12-month contact and how many of those were
/// in work or education. The ministry's target is 30 %.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct OneYear {
    pub jobseekers: u64,
    /// A 12-month follow-up with an outcome other than `unreachable`.
    pub reached: u64,
    /// Of those reached, in work or education.
    pub work_or_education: u64,
    /// No 12-month follow-up within its window, or one with outcome `unreachable`.
    pub not_reached: u64,
    /// The 12-month window is still open on the day asked about.
    pub pending: u64,
}

field_ops!(OneYear; jobseekers, reached, work_or_education, not_reached, pending);
field_ops!(Contribution; answers, any_support, one_year);

impl OneYear {
    /// work_or_education / jobseekers, against the 30 % target; `None` with no job seekers.
    pub fn share(&self) -> Option<f64> {
        #[allow(clippy::cast_precision_loss)] // counts far below 2^52
        (self.jobseekers > 0).then(|| self.work_or_education as f64 / self.jobseekers as f64)
    }
}

/// The ministry's target for the one-year result.
pub const TARGET_ONE_YEAR: f64 = 0.3;

/// Where a job seeker who ended stands on the one-year indicator, apart from
/// the day asked about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reach {
    WorkOrEducation,
    /// Reached, in something else.
    Reached,
    /// Only `unreachable` contacts in the window.
    NotReached,
    /// No contact in the window, which closes on `until`: pending while it
    /// is open, not reached after.
    NoContact {
        until: NaiveDate,
    },
}

/// The exit year and the one-year standing of a participant who ended as a
/// job seeker (main activity wage subsidy, NAV measure or other measure).
fn reach(f: &Facts, window_months: u32) -> Option<(i32, Reach)> {
    use spor_domain::event::FollowUpOutcome as O;
    let x = f.exit.as_ref()?;
    if !matches!(
        x.exit.main_activity(),
        Some(MainActivity::WageSubsidy | MainActivity::NavMeasure | MainActivity::OtherMeasure)
    ) {
        return None;
    }
    // The contact that answers the 12-month reminder: within the reminder's
    // window either side (a month by default; `[reminders]` of the config).
    let due = calendar::add_months(x.date, 12);
    let (from, until) = (
        calendar::sub_months(due, window_months),
        calendar::add_months(due, window_months),
    );
    let outcomes: Vec<O> = f
        .follow_ups
        .iter()
        .filter(|(d, _)| from <= *d && *d <= until)
        .map(|(_, u)| u.outcome)
        .collect();
    let r = if outcomes.iter().any(|u| matches!(u, O::Work | O::Education)) {
        Reach::WorkOrEducation
    } else if outcomes.iter().any(|u| *u != O::Unreachable) {
        Reach::Reached
    } else if outcomes.is_empty() {
        Reach::NoContact { until }
    } else {
        Reach::NotReached
    };
    Some((x.date.year(), r))
}

impl Reach {
    fn on(self, as_of: NaiveDate) -> OneYear {
        let mut o = OneYear {
            jobseekers: 1,
            ..OneYear::default()
        };
        match self {
            Self::WorkOrEducation => {
                o.reached = 1;
                o.work_or_education = 1;
            }
            Self::Reached => o.reached = 1,
            Self::NoContact { until } if until >= as_of => o.pending = 1,
            Self::NotReached | Self::NoContact { .. } => o.not_reached = 1,
        }
        o
    }
}

/// The one-year part of a participant's contribution for an exit in `year`.
fn one_year(f: &Facts, year: i32, as_of: NaiveDate, window_months: u32) -> OneYear {
    match reach(f, window_months) {
        Some((y, r)) if y == year => r.on(as_of),
        _ => OneYear::default(),
    }
}

/// The facts of a timeline as the survey may count them.
pub fn facts_known(timeline: &Timeline, known_at: Option<DateTime<Utc>>) -> Facts {
    match known_at {
        None => timeline.facts(),
        Some(t) => timeline.facts_where(|e: &Entry| e.event.recorded_at <= t),
    }
}

/// What one participant adds to the survey of `year`.
pub fn contribution(f: &Facts, year: i32) -> Contribution {
    let mut c = Contribution::default();
    let (Some(first), Some(last)) = (
        NaiveDate::from_ymd_opt(year, 1, 1),
        NaiveDate::from_ymd_opt(year, 12, 31),
    ) else {
        return c;
    };
    let Some(start) = f.started else { return c };
    if start > last {
        return c;
    }
    let a = &mut c.answers;
    let exit = f.exit.as_ref();
    let exit_date = exit.map(|x| x.date);
    // q1: not ended before 1 January.
    if exit_date.is_none_or(|d| d >= first) {
        a.q1 = 1;
    }
    // q2: not ended on or before 31 December; q3: of these, on leave then.
    if exit_date.is_none_or(|d| d > last) {
        a.q2 = 1;
        if f.on_leave(last) {
            a.q3 = 1;
        }
    }
    let Some(x) = exit.filter(|x| first <= x.date && x.date <= last) else {
        return c;
    };
    a.q4 = 1;
    if f.months > 24 {
        a.q6 = 1;
    } else if x.date < calendar::planned_end(start, 24, f.leave_days()) {
        a.q5 = 1;
    }
    match &x.exit {
        Exit::Interrupted(i) => match i.reason {
            InterruptedReason::Death => a.q7a = 1,
            InterruptedReason::Moved => a.q7b = 1,
            InterruptedReason::Unknown => a.q7c = 1,
        },
        Exit::Stopped(s) if s.reason == StoppedReason::Health => a.q8a = 1,
        Exit::Stopped(s) if s.reason == StoppedReason::Behaviour => a.q8b = 1,
        other => match other.main_activity() {
            Some(MainActivity::UpperSecondary) => a.q9a = 1,
            Some(MainActivity::HigherEducation) => a.q9b = 1,
            Some(MainActivity::Work) => a.q10a = 1,
            Some(MainActivity::WageSubsidy) => a.q11a = 1,
            Some(MainActivity::NavMeasure) => a.q11b = 1,
            Some(MainActivity::PrimarySchool) => a.q12a = 1,
            Some(MainActivity::OtherMeasure) => a.q12b = 1,
            // The rules require a main activity wherever the reason does not
            // give one; an exit without one counts as no activity rather than
            // vanishing from the sum.
            Some(MainActivity::NoActivity) | None => a.q12c = 1,
        },
    }
    let support = x.exit.support();
    a.q13a = u64::from(support.contains(&Support::SocialAssistance));
    a.q13b = u64::from(support.contains(&Support::InsuranceBenefit));
    a.q13c = u64::from(support.contains(&Support::OtherSupport));
    c.any_support = u64::from(!support.is_empty());
    c
}

/// A participant's whole contribution to the survey of `year`; a 12-month
/// contact counts within `window_months` either side of its due date.
pub fn contribution_on(f: &Facts, year: i32, as_of: NaiveDate, window_months: u32) -> Contribution {
    let mut c = contribution(f, year);
    c.one_year = one_year(f, year, as_of, window_months);
    c
}

/// Every participant's contribution to the survey, with their unit.
pub fn contributions(
    projections: &Projections,
    year: i32,
    known_at: Option<DateTime<Utc>>,
    as_of: NaiveDate,
) -> Vec<(ParticipantId, UnitCode, Contribution)> {
    let mut out: Vec<_> = projections
        .timelines(None)
        .filter_map(|(p, t)| {
            let unit = t.unit()?;
            let c = contribution_on(
                &facts_known(t, known_at),
                year,
                as_of,
                projections.rules().post_exit_window_months,
            );
            (c != Contribution::default()).then_some((p, unit, c))
        })
        .collect();
    out.sort_by_key(|(p, u, _)| (*u, *p));
    out
}

/// A participant's contribution to every year's survey, kept by a settle
/// (see [`Projections::settle`]). The one-year part is kept apart from the
/// day it is taken on.
#[derive(Debug, Clone, Default)]
pub(crate) struct Part {
    /// Each year from the start to the exit (without an exit: to the year
    /// of the last dated fact), with what the participant adds to it.
    years: Vec<(i32, Contribution)>,
    /// Without an exit: what each year from this one on gets (nothing
    /// dated changes after the last dated fact).
    steady: Option<(i32, Contribution)>,
    one_year: Option<(i32, Reach)>,
}

impl Part {
    pub(crate) fn of(f: &Facts, window_months: u32) -> Self {
        let Some(start) = f.started else {
            return Self::default();
        };
        let first = start.year();
        let mut part = Self {
            one_year: reach(f, window_months),
            ..Self::default()
        };
        let last = match &f.exit {
            Some(x) => x.date.year(),
            None => {
                let leaves = f.leaves.iter().map(|l| l.period.to.year());
                let dated = [f.last_date.map(|d| d.year())]
                    .into_iter()
                    .flatten()
                    .chain(leaves);
                let last = dated.fold(first, i32::max);
                part.steady = Some((last + 1, contribution(f, last + 1)));
                last
            }
        };
        for year in first..=last.max(first) {
            let c = contribution(f, year);
            if c != Contribution::default() {
                part.years.push((year, c));
            }
        }
        part
    }

    /// What the participant adds to `year`, the one-year part taken on `as_of`.
    #[cfg(test)]
    fn on(&self, year: i32, as_of: NaiveDate) -> Contribution {
        let mut c = match (self.years.iter().find(|(y, _)| *y == year), self.steady) {
            (Some((_, c)), _) => *c,
            (None, Some((from, c))) if year >= from => c,
            _ => Contribution::default(),
        };
        if let Some((_, r)) = self.one_year.filter(|(y, _)| *y == year) {
            c.one_year = r.on(as_of);
        }
        c
    }
}

/// The one-year sums of one unit and exit year.
#[derive(Debug, Clone, Default)]
struct Reaches {
    /// Every job seeker except those without a contact, who are in `waiting`.
    settled: OneYear,
    /// Job seekers without a contact, by the day their window closes.
    waiting: BTreeMap<NaiveDate, u64>,
}

/// One unit's sums of its participants' [`Part`]s.
#[derive(Debug, Clone, Default)]
struct UnitSums {
    years: BTreeMap<i32, Contribution>,
    /// Summed steady contributions, by the year they begin.
    steady: BTreeMap<i32, Contribution>,
    one_year: BTreeMap<i32, Reaches>,
}

/// Every unit's survey sums, moved by each settle.
#[derive(Debug, Clone, Default)]
pub(crate) struct Sums {
    units: BTreeMap<UnitCode, UnitSums>,
}

impl Sums {
    pub(crate) fn add(&mut self, unit: UnitCode, part: &Part) {
        let s = self.units.entry(unit).or_default();
        for (y, c) in &part.years {
            *s.years.entry(*y).or_default() += *c;
        }
        if let Some((y, c)) = part.steady {
            *s.steady.entry(y).or_default() += c;
        }
        if let Some((y, r)) = part.one_year {
            let sums = s.one_year.entry(y).or_default();
            match r {
                Reach::NoContact { until } => {
                    sums.settled.jobseekers += 1;
                    *sums.waiting.entry(until).or_default() += 1;
                }
                other => sums.settled += other.on(NaiveDate::MIN),
            }
        }
    }

    pub(crate) fn remove(&mut self, unit: UnitCode, part: &Part) {
        let s = self
            .units
            .get_mut(&unit)
            .expect("a part removed was added to its unit");
        for (y, c) in &part.years {
            *s.years.get_mut(y).expect("added before") -= *c;
        }
        if let Some((y, c)) = part.steady {
            *s.steady.get_mut(&y).expect("added before") -= c;
        }
        if let Some((y, r)) = part.one_year {
            let sums = s.one_year.get_mut(&y).expect("added before");
            match r {
                Reach::NoContact { until } => {
                    sums.settled.jobseekers -= 1;
                    let n = sums.waiting.get_mut(&until).expect("added before");
                    *n -= 1;
                    if *n == 0 {
                        sums.waiting.remove(&until);
                    }
                }
                other => sums.settled -= other.on(NaiveDate::MIN),
            }
        }
    }

    /// One unit's contribution to the survey of `year`, the one-year part taken on `as_of`.
    fn of(s: &UnitSums, year: i32, as_of: NaiveDate) -> Contribution {
        let mut c = s.years.get(&year).copied().unwrap_or_default();
        for st in s.steady.range(..=year).map(|(_, c)| *c) {
            c += st;
        }
        if let Some(r) = s.one_year.get(&year) {
            let mut o = r.settled;
            let pending: u64 = r.waiting.range(as_of..).map(|(_, n)| n).sum();
            let closed: u64 = r.waiting.range(..as_of).map(|(_, n)| n).sum();
            o.pending += pending;
            o.not_reached += closed;
            c.one_year = o;
        }
        c
    }
}

/// Every unit's summed contribution to the survey of `year` (units that
/// contribute nothing are left out). Read from the settled sums when every
/// timeline is settled and the whole log counts (no `known_at`, or one at or
/// after the latest recording); otherwise summed from a walk of every
/// timeline. Both give the same sums (tests/rebuild.rs).
pub fn by_unit(
    projections: &Projections,
    year: i32,
    known_at: Option<DateTime<Utc>>,
    as_of: NaiveDate,
) -> BTreeMap<UnitCode, Contribution> {
    let mut units: BTreeMap<UnitCode, Contribution> = BTreeMap::new();
    // A time at or after the latest recording knows every event.
    let knows_all = known_at.is_none_or(|t| projections.latest_recorded().is_none_or(|l| t >= l));
    if knows_all && projections.is_settled() {
        for (u, s) in &projections.sums.units {
            let c = Sums::of(s, year, as_of);
            if c != Contribution::default() {
                units.insert(*u, c);
            }
        }
    } else {
        for (_, unit, c) in contributions(projections, year, known_at, as_of) {
            *units.entry(unit).or_default() += c;
        }
    }
    units
}

/// The survey of a year, grouped as asked.
pub fn survey(projections: &Projections, request: &SurveyRequest) -> Survey {
    survey_where(projections, request, &|_| true)
}

/// The survey of some units only (a unit leader's own), by unit; the total
/// sums those units' rows.
pub fn survey_of_units(
    projections: &Projections,
    request: &SurveyRequest,
    only: &[UnitCode],
) -> Survey {
    survey_where(projections, request, &|u| only.contains(u))
}

fn survey_where(
    projections: &Projections,
    request: &SurveyRequest,
    keep: &dyn Fn(&UnitCode) -> bool,
) -> Survey {
    let in_year = NaiveDate::from_ymd_opt(request.year, 12, 31).unwrap_or(NaiveDate::MAX);
    let mut units = by_unit(projections, request.year, request.known_at, request.as_of);
    units.retain(|u, _| keep(u));
    let unknown_units: Vec<String> = units
        .keys()
        .filter(|u| u.name_on(in_year).is_none())
        .map(ToString::to_string)
        .collect();
    let mut total = Contribution::default();
    for c in units.values() {
        total += *c;
    }
    let rows: Vec<Row> = match request.by {
        Grouping::Unit => units
            .iter()
            .map(|(u, c)| Row {
                code: u.to_string(),
                name: u.name_on(in_year).map(str::to_owned),
                answers: c.answers,
                indicators: Indicators::of(
                    &c.answers,
                    c.any_support,
                    Some(SizeClass::of(c.answers.q1)),
                ),
                one_year: c.one_year,
            })
            .collect(),
        Grouping::County => {
            let mut counties: BTreeMap<CountyCode, Contribution> = BTreeMap::new();
            for (u, c) in &units {
                *counties.entry(u.county()).or_default() += *c;
            }
            counties
                .iter()
                .map(|(k, c)| Row {
                    code: k.to_string(),
                    name: Some(k.name_on(in_year).to_owned()),
                    answers: c.answers,
                    indicators: Indicators::of(&c.answers, c.any_support, None),
                    one_year: c.one_year,
                })
                .collect()
        }
        Grouping::National => vec![Row {
            code: "national".into(),
            name: Some("Hele landet".into()),
            answers: total.answers,
            indicators: Indicators::of(&total.answers, total.any_support, None),
            one_year: total.one_year,
        }],
    };
    Survey {
        year: request.year,
        by: request.by,
        rows,
        total: Total {
            answers: total.answers,
            indicators: Indicators::of(&total.answers, total.any_support, None),
            one_year: total.one_year,
        },
        unknown_units,
    }
}

/// One event behind a count, as a leader checks it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Behind {
    pub event: spor_domain::EventId,
    #[serde(rename = "type")]
    pub kind: spor_domain::EventKind,
    pub date: NaiveDate,
    pub recorded_at: DateTime<Utc>,
    pub by: Option<String>,
}

/// A participant behind a count (or close to it, with why not).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Explained {
    /// The name-free id.
    pub participant: ParticipantId,
    pub unit: UnitCode,
    pub events: Vec<Behind>,
    /// For participants not counted: why not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub why_not: Option<WhyNot>,
}

/// Why a participant close to a count is not in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum WhyNot {
    /// Started after 31 December.
    StartedAfterTheYear {
        date: NaiveDate,
    },
    /// Ended before 1 January.
    EndedBeforeTheYear {
        date: NaiveDate,
    },
    /// Ended after 31 December.
    EndedAfterTheYear {
        date: NaiveDate,
    },
    /// A leave that ended before 31 December.
    LeaveEndedBefore31December {
        date: NaiveDate,
    },
    UnderTwoYears,
    GrantedOverTwoYears,
    TwoYears,
    /// Ended in the year, with another answer to the same question.
    CountedUnder {
        key: Question,
    },
    /// Ended in the year without this kind of support.
    WithoutThisSupport,
}

/// The participants of `unit` counted in `key` for `year`, each with the
/// events that put them there. With `counted: false`, the participants close
/// to being counted but not, each with why not.
pub fn explain(
    projections: &Projections,
    year: i32,
    unit: UnitCode,
    key: Question,
    known_at: Option<DateTime<Utc>>,
    counted: bool,
) -> Vec<Explained> {
    let mut out = Vec::new();
    for (p, t) in projections.timelines(Some(unit)) {
        let f = facts_known(t, known_at);
        let c = contribution(&f, year);
        let is_counted = c.answers.get(key) == 1;
        let why_not = if is_counted {
            None
        } else {
            near_miss(&f, &c.answers, year, key)
        };
        if (counted && is_counted) || (!counted && why_not.is_some()) {
            out.push(Explained {
                participant: p,
                unit,
                events: behind(t, &f, key, known_at),
                why_not,
            });
        }
    }
    out.sort_by_key(|e| e.participant);
    out
}

/// The events that decide a participant's place in `key`.
fn behind(t: &Timeline, f: &Facts, key: Question, known_at: Option<DateTime<Utc>>) -> Vec<Behind> {
    use spor_domain::EventKind as K;
    let exit_id = f.exit.as_ref().map(|x| x.event);
    let leave_ids: Vec<_> = f.leaves.iter().map(|l| l.event).collect();
    let wanted = |e: &Entry| {
        let kind = e.event.body.kind();
        kind == K::Started
            || Some(e.event.id) == exit_id
            || (matches!(key, Question::Q3 | Question::Q5) && leave_ids.contains(&e.event.id))
            || (matches!(key, Question::Q3 | Question::Q5) && kind == K::LeaveEnded)
            || (key == Question::Q6 && matches!(kind, K::Granted | K::Extended))
    };
    let mut v: Vec<Behind> = t
        .entries()
        .iter()
        .filter(|e| known_at.is_none_or(|k| e.event.recorded_at <= k))
        // A retraction counts once it is known: recorded by `known_at`.
        .filter(|e| {
            e.retracted_by
                .and_then(|r| t.get(r))
                .is_none_or(|r| known_at.is_some_and(|k| r.event.recorded_at > k))
        })
        .filter(|e| wanted(e))
        .map(|e| Behind {
            event: e.event.id,
            kind: e.event.body.kind(),
            date: e.event.date,
            recorded_at: e.event.recorded_at,
            by: e.event.by.clone(),
        })
        .collect();
    v.sort_by_key(|b| (b.date, b.recorded_at));
    v
}

/// Why someone close to a count is not in it, if they are close at all: a
/// start or an exit within a month of the year's ends, or another answer to
/// the same question.
fn near_miss(f: &Facts, a: &Answers, year: i32, key: Question) -> Option<WhyNot> {
    let first = NaiveDate::from_ymd_opt(year, 1, 1)?;
    let last = NaiveDate::from_ymd_opt(year, 12, 31)?;
    let month_before = calendar::sub_months(first, 1);
    let month_after = calendar::add_months(last, 1);
    let start = f.started?;
    let exit = f.exit.as_ref();
    if start > last {
        return (start <= month_after).then_some(WhyNot::StartedAfterTheYear { date: start });
    }
    if let Some(x) = exit {
        if x.date < first {
            return (x.date >= month_before).then_some(WhyNot::EndedBeforeTheYear { date: x.date });
        }
        if x.date > last && !matches!(key, Question::Q1 | Question::Q2 | Question::Q3) {
            return (x.date <= month_after).then_some(WhyNot::EndedAfterTheYear { date: x.date });
        }
    }
    match key {
        Question::Q3 if a.q2 == 1 => f
            .leave_spans()
            .iter()
            .filter_map(|s| s.effective())
            .filter(|p| p.to < last && p.to >= calendar::sub_months(last, 1))
            .map(|p| WhyNot::LeaveEndedBefore31December { date: p.to })
            .next(),
        Question::Q5 | Question::Q6 if a.q4 == 1 => Some(if a.q5 == 1 {
            WhyNot::UnderTwoYears
        } else if a.q6 == 1 {
            WhyNot::GrantedOverTwoYears
        } else {
            WhyNot::TwoYears
        }),
        k if Question::SUPPORT.contains(&k) && a.q4 == 1 => Some(WhyNot::WithoutThisSupport),
        k if Question::EXIT_MIX.contains(&k) && a.q4 == 1 => {
            let other = Question::EXIT_MIX.into_iter().find(|q| a.get(*q) == 1)?;
            Some(WhyNot::CountedUnder { key: other })
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The keys and counts of a JSON object, in the order written (a plain
    /// reading of the JSON, apart from `Question`).
    struct InOrder(Vec<(String, u64)>);

    impl<'de> Deserialize<'de> for InOrder {
        fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            struct Entries;
            impl<'de> serde::de::Visitor<'de> for Entries {
                type Value = InOrder;
                fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                    f.write_str("an object of counts")
                }
                fn visit_map<A: serde::de::MapAccess<'de>>(
                    self,
                    mut m: A,
                ) -> Result<InOrder, A::Error> {
                    let mut v = Vec::new();
                    while let Some(entry) = m.next_entry()? {
                        v.push(entry);
                    }
                    Ok(InOrder(v))
                }
            }
            d.deserialize_map(Entries)
        }
    }

    /// The JSON of the answers (contract §2) has the questions' keys in
    /// questionnaire order, and `get` reads the field its key names.
    #[test]
    fn the_questions_are_the_json_keys_of_the_answers_in_order() {
        let mut a = Answers::default();
        for (n, q) in (1u64..).zip(Question::ALL) {
            *a.slot(q) = n;
        }
        let json = serde_json::to_string(&a).expect("answers serialise");
        let InOrder(entries) = serde_json::from_str(&json).expect("an object of counts");
        let keys: Vec<&str> = entries.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, Question::ALL.map(Question::key));
        for ((key, n), q) in entries.iter().zip(Question::ALL) {
            assert_eq!(a.get(q), *n, "{key}");
            assert_eq!(key.parse::<Question>(), Ok(q));
            assert_eq!(
                serde_json::to_string(&q).expect("a key"),
                format!("\"{key}\"")
            );
            assert_eq!(
                serde_json::from_str::<Question>(&format!("\"{key}\"")).expect("a key"),
                q
            );
        }
        assert_eq!(Question::Q7a.key(), "q7a");
        assert_eq!(Question::Q13c.text(), "Annet livsopphold");
    }

    /// An unknown key is refused with every valid key named, so the user
    /// can pick one; so is a key in another case.
    #[test]
    fn an_unknown_key_is_refused_naming_the_valid_keys() {
        for bad in ["q99", "Q4", "q7", " q4", ""] {
            let err = bad.parse::<Question>().expect_err(bad);
            assert_eq!(err, UnknownKey(bad.to_owned()));
            let message = err.to_string();
            assert!(
                message.starts_with(&format!(
                    "`{bad}` is not a survey question; the keys are q1, q2, q3,"
                )),
                "{message}"
            );
            assert!(message.ends_with("q13a, q13b, q13c"), "{message}");
            for q in Question::ALL {
                assert!(
                    message.contains(&format!(" {},", q.key())) || message.ends_with(q.key()),
                    "{q} in {message}"
                );
            }
        }
        let err = serde_json::from_str::<Question>("\"q99\"").expect_err("not a question");
        assert!(
            err.to_string().contains("`q99` is not a survey question"),
            "{err}"
        );
    }

    /// A settle keeps each participant's contribution for a few years and a
    /// steady one for every year after: that must equal the contribution
    /// computed for any year, long before and long after the dates in the log.
    #[test]
    fn a_kept_part_gives_every_years_contribution() {
        for seed in 0..4 {
            let events = spor_demo::generate(&spor_demo::DemoSpec {
                participants: 300,
                seed,
            });
            let mut p = Projections::new();
            for (i, e) in events.into_iter().enumerate() {
                p.apply(u64::try_from(i).expect("small") + 1, e);
            }
            let as_of = NaiveDate::from_ymd_opt(2009, 3, 1).expect("a date");
            for (_, t) in p.timelines(None) {
                let f = t.facts();
                let part = Part::of(&f, 1);
                for year in 1990..2060 {
                    assert_eq!(
                        part.on(year, as_of),
                        contribution_on(&f, year, as_of, 1),
                        "{year}: {f:?}"
                    );
                }
            }
        }
    }
}
