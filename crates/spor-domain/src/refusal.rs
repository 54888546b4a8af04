//! Why an event was refused: a value naming the event, the rule, and what
//! would be valid. [`Rule`] is the stable code scripts and the web match on.

use chrono::NaiveDate;
use serde::Serialize;

use crate::codes::UnitCode;
use crate::event::{EventId, EventKind, Support};
use crate::person::PersonError;

/// The rule an event broke. Serialises to a stable snake_case code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Rule {
    UnitMismatch,
    PersonNumber,
    DufWithoutBirthDate,
    BirthDateMismatch,
    LeavePeriodReversed,
    MonthsOutOfRange,
    ExtensionTooLong,
    ExtensionNotLonger,
    MainActivityRequired,
    MainActivityNotAllowed,
    ToUnitOnlyWhenMoved,
    ToUnitIsOwnUnit,
    DuplicateSupport,
    TextMissing,
    TextTooLong,
    HoursOutOfRange,
    DateAfterRecording,
    DateOutOfRange,
    FirstNotRegistered,
    AlreadyRegistered,
    DecisionWithoutApplication,
    ApplicationAfterGrant,
    AlreadyGranted,
    StartWithoutGrant,
    AlreadyStarted,
    NotInProgramme,
    LeaveBeforeStart,
    LeaveAfterExit,
    LeaveEndedWithoutLeave,
    MeasureAlreadyOpen,
    MeasureNotStarted,
    ExitBeforeStart,
    SecondExit,
    AfterExit,
    FollowUpWithoutExit,
    RetractUnknown,
    RetractRetraction,
    AlreadyRetracted,
}

impl Rule {
    /// The stable code, e.g. `start_without_grant`.
    pub fn code(self) -> String {
        serde_json::to_value(self)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default()
    }
}

/// A refused event. The text says what is wrong and what would be valid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error(
        "{event}: the stream belongs to unit {stream}, not {unit}; a move is an `interrupted` exit (moved) and a new stream in the new unit"
    )]
    UnitMismatch {
        event: EventId,
        unit: UnitCode,
        stream: UnitCode,
    },
    #[error("{event}: {problem}")]
    PersonNumber {
        event: EventId,
        problem: PersonError,
    },
    #[error("{event}: a DUF-nummer needs `birth_date` beside it")]
    DufWithoutBirthDate { event: EventId },
    #[error("{event}: `birth_date` {given} contradicts the identity number, which gives {encoded}")]
    BirthDateMismatch {
        event: EventId,
        given: NaiveDate,
        encoded: NaiveDate,
    },
    #[error("{event}: leave `to` {to} is before `from` {from}")]
    LeavePeriodReversed {
        event: EventId,
        from: NaiveDate,
        to: NaiveDate,
    },
    #[error("{event}: {months} months; a programme is granted for 1 to 36 months")]
    MonthsOutOfRange { event: EventId, months: u32 },
    #[error("{event}: extension to {requested} months; the limit is 36")]
    ExtensionTooLong { event: EventId, requested: u32 },
    #[error(
        "{event}: extension to {requested} months, but {current} months are already granted; `months` is the new total and must be longer"
    )]
    ExtensionNotLonger {
        event: EventId,
        requested: u32,
        current: u32,
    },
    #[error("{event}: reason `other` needs `main_activity`")]
    MainActivityRequired { event: EventId },
    #[error("{event}: `main_activity` is given only with reason `other`, not with `{reason}`")]
    MainActivityNotAllowed {
        event: EventId,
        reason: &'static str,
    },
    #[error("{event}: `to_unit` is given only with reason `moved`")]
    ToUnitOnlyWhenMoved { event: EventId },
    #[error("{event}: `to_unit` {unit} is the participant's own unit")]
    ToUnitIsOwnUnit { event: EventId, unit: UnitCode },
    #[error("{event}: `support` lists {support} twice")]
    DuplicateSupport { event: EventId, support: Support },
    #[error("{event}: `{field}` must not be empty")]
    TextMissing { event: EventId, field: &'static str },
    #[error("{event}: `{field}` is {length} characters; the limit is {limit}")]
    TextTooLong {
        event: EventId,
        field: &'static str,
        length: usize,
        limit: usize,
    },
    #[error("{event}: `{field}` is {hours} hours; it must be more than 0 and at most {limit}")]
    HoursOutOfRange {
        event: EventId,
        field: &'static str,
        hours: String,
        limit: u32,
    },
    #[error(
        "{event}: dated {date}, after it was recorded ({recorded}); an event is logged when or after it takes effect"
    )]
    DateAfterRecording {
        event: EventId,
        date: NaiveDate,
        recorded: NaiveDate,
    },
    #[error("{event}: the date {date} is before 1990; check the year")]
    DateOutOfRange { event: EventId, date: NaiveDate },
    #[error("{event}: `{kind}` cannot come first; every stream begins with `registered`")]
    FirstNotRegistered { event: EventId, kind: EventKind },
    #[error("{event}: the participant is already registered; a stream has one `registered`")]
    AlreadyRegistered { event: EventId },
    #[error("{event}: `{kind}` needs a `claimed` or `offered` before it{}", after_refusal(*refused))]
    DecisionWithoutApplication {
        event: EventId,
        kind: EventKind,
        refused: Option<NaiveDate>,
    },
    #[error("{event}: `{kind}` after the programme was granted on {granted}")]
    ApplicationAfterGrant {
        event: EventId,
        kind: EventKind,
        granted: NaiveDate,
    },
    #[error(
        "{event}: the programme was already granted on {granted}; use `extended` to change its length"
    )]
    AlreadyGranted { event: EventId, granted: NaiveDate },
    #[error("{event}: `started` needs a `granted` before it")]
    StartWithoutGrant { event: EventId },
    #[error("{event}: the programme already started on {started}")]
    AlreadyStarted { event: EventId, started: NaiveDate },
    #[error(
        "{event}: `{kind}` needs the programme to have started (a `started` dated on or before it)"
    )]
    NotInProgramme { event: EventId, kind: EventKind },
    #[error(
        "{event}: leave from {from} is before the start on {start}; a leave lies inside the programme"
    )]
    LeaveBeforeStart {
        event: EventId,
        from: NaiveDate,
        start: NaiveDate,
    },
    #[error(
        "{event}: leave from {from} is after the exit on {exit}; a leave lies inside the programme (retract the leave or date the exit later)"
    )]
    LeaveAfterExit {
        event: EventId,
        from: NaiveDate,
        exit: NaiveDate,
    },
    #[error("{event}: `leave_ended` needs a leave whose `from` is before {date}")]
    LeaveEndedWithoutLeave { event: EventId, date: NaiveDate },
    #[error("{event}: measure `{measure}` is already running; end it before starting it again")]
    MeasureAlreadyOpen { event: EventId, measure: String },
    #[error("{event}: measure `{measure}` has no `measure_started` before it")]
    MeasureNotStarted { event: EventId, measure: String },
    #[error(
        "{event}: `{kind}` needs the programme to have started; only a started programme can end"
    )]
    ExitBeforeStart { event: EventId, kind: EventKind },
    #[error("{event}: the programme already ended on {exit}; a participant has one exit")]
    SecondExit { event: EventId, exit: NaiveDate },
    #[error("{event}: `{kind}` after the exit on {exit}; only follow_up or retracted may follow")]
    AfterExit {
        event: EventId,
        kind: EventKind,
        exit: NaiveDate,
    },
    #[error("{event}: `follow_up` is contact after exit; there is no exit before it")]
    FollowUpWithoutExit { event: EventId },
    #[error("{event}: retracts {target}, which is not an event of this participant")]
    RetractUnknown { event: EventId, target: EventId },
    #[error(
        "{event}: retracts {target}, which is itself a retraction; a retraction cannot be undone, log the event again with a new id"
    )]
    RetractRetraction { event: EventId, target: EventId },
    #[error("{event}: {target} was already retracted by {by}")]
    AlreadyRetracted {
        event: EventId,
        target: EventId,
        by: EventId,
    },
    #[error("{event}: without {target} the timeline breaks a rule: {cause}")]
    RetractionBreaksTimeline {
        event: EventId,
        target: EventId,
        cause: Box<Refusal>,
    },
    #[error("{event}: in its place by date the timeline breaks a rule: {cause}")]
    BreaksLaterEvent { event: EventId, cause: Box<Refusal> },
}

/// A decision uses up its application: after a refusal a new claim or offer
/// must come before the next decision.
fn after_refusal(refused: Option<NaiveDate>) -> String {
    refused.map_or(String::new(), |d| {
        format!(" since the refusal on {d}; a new decision needs a new claim or offer")
    })
}

impl Refusal {
    /// The rule broken. For a refusal caused by another event, the rule that
    /// event then breaks.
    pub fn rule(&self) -> Rule {
        match self {
            Self::UnitMismatch { .. } => Rule::UnitMismatch,
            Self::PersonNumber { .. } => Rule::PersonNumber,
            Self::DufWithoutBirthDate { .. } => Rule::DufWithoutBirthDate,
            Self::BirthDateMismatch { .. } => Rule::BirthDateMismatch,
            Self::LeavePeriodReversed { .. } => Rule::LeavePeriodReversed,
            Self::MonthsOutOfRange { .. } => Rule::MonthsOutOfRange,
            Self::ExtensionTooLong { .. } => Rule::ExtensionTooLong,
            Self::ExtensionNotLonger { .. } => Rule::ExtensionNotLonger,
            Self::MainActivityRequired { .. } => Rule::MainActivityRequired,
            Self::MainActivityNotAllowed { .. } => Rule::MainActivityNotAllowed,
            Self::ToUnitOnlyWhenMoved { .. } => Rule::ToUnitOnlyWhenMoved,
            Self::ToUnitIsOwnUnit { .. } => Rule::ToUnitIsOwnUnit,
            Self::DuplicateSupport { .. } => Rule::DuplicateSupport,
            Self::TextMissing { .. } => Rule::TextMissing,
            Self::TextTooLong { .. } => Rule::TextTooLong,
            Self::HoursOutOfRange { .. } => Rule::HoursOutOfRange,
            Self::DateAfterRecording { .. } => Rule::DateAfterRecording,
            Self::DateOutOfRange { .. } => Rule::DateOutOfRange,
            Self::FirstNotRegistered { .. } => Rule::FirstNotRegistered,
            Self::AlreadyRegistered { .. } => Rule::AlreadyRegistered,
            Self::DecisionWithoutApplication { .. } => Rule::DecisionWithoutApplication,
            Self::ApplicationAfterGrant { .. } => Rule::ApplicationAfterGrant,
            Self::AlreadyGranted { .. } => Rule::AlreadyGranted,
            Self::StartWithoutGrant { .. } => Rule::StartWithoutGrant,
            Self::AlreadyStarted { .. } => Rule::AlreadyStarted,
            Self::NotInProgramme { .. } => Rule::NotInProgramme,
            Self::LeaveBeforeStart { .. } => Rule::LeaveBeforeStart,
            Self::LeaveAfterExit { .. } => Rule::LeaveAfterExit,
            Self::LeaveEndedWithoutLeave { .. } => Rule::LeaveEndedWithoutLeave,
            Self::MeasureAlreadyOpen { .. } => Rule::MeasureAlreadyOpen,
            Self::MeasureNotStarted { .. } => Rule::MeasureNotStarted,
            Self::ExitBeforeStart { .. } => Rule::ExitBeforeStart,
            Self::SecondExit { .. } => Rule::SecondExit,
            Self::AfterExit { .. } => Rule::AfterExit,
            Self::FollowUpWithoutExit { .. } => Rule::FollowUpWithoutExit,
            Self::RetractUnknown { .. } => Rule::RetractUnknown,
            Self::RetractRetraction { .. } => Rule::RetractRetraction,
            Self::AlreadyRetracted { .. } => Rule::AlreadyRetracted,
            Self::RetractionBreaksTimeline { cause, .. } | Self::BreaksLaterEvent { cause, .. } => {
                cause.rule()
            }
        }
    }

    /// The event that was refused.
    pub fn event(&self) -> EventId {
        match self {
            Self::UnitMismatch { event, .. }
            | Self::PersonNumber { event, .. }
            | Self::DufWithoutBirthDate { event }
            | Self::BirthDateMismatch { event, .. }
            | Self::LeavePeriodReversed { event, .. }
            | Self::MonthsOutOfRange { event, .. }
            | Self::ExtensionTooLong { event, .. }
            | Self::ExtensionNotLonger { event, .. }
            | Self::MainActivityRequired { event }
            | Self::MainActivityNotAllowed { event, .. }
            | Self::ToUnitOnlyWhenMoved { event }
            | Self::ToUnitIsOwnUnit { event, .. }
            | Self::DuplicateSupport { event, .. }
            | Self::TextMissing { event, .. }
            | Self::TextTooLong { event, .. }
            | Self::HoursOutOfRange { event, .. }
            | Self::DateAfterRecording { event, .. }
            | Self::DateOutOfRange { event, .. }
            | Self::FirstNotRegistered { event, .. }
            | Self::AlreadyRegistered { event }
            | Self::DecisionWithoutApplication { event, .. }
            | Self::ApplicationAfterGrant { event, .. }
            | Self::AlreadyGranted { event, .. }
            | Self::StartWithoutGrant { event }
            | Self::AlreadyStarted { event, .. }
            | Self::NotInProgramme { event, .. }
            | Self::LeaveBeforeStart { event, .. }
            | Self::LeaveAfterExit { event, .. }
            | Self::LeaveEndedWithoutLeave { event, .. }
            | Self::MeasureAlreadyOpen { event, .. }
            | Self::MeasureNotStarted { event, .. }
            | Self::ExitBeforeStart { event, .. }
            | Self::SecondExit { event, .. }
            | Self::AfterExit { event, .. }
            | Self::FollowUpWithoutExit { event }
            | Self::RetractUnknown { event, .. }
            | Self::RetractRetraction { event, .. }
            | Self::AlreadyRetracted { event, .. }
            | Self::RetractionBreaksTimeline { event, .. }
            | Self::BreaksLaterEvent { event, .. } => *event,
        }
    }
}
