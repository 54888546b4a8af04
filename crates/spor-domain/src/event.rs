//! The events of a participant's life in the programme (contract §1), each
//! with its own fields. Names follow the contract; doc comments give the
//! Norwegian word advisers use.

use std::fmt;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::codes::UnitCode;
use crate::person::PersonNumber;

/// Declares a closed list of codes: the enum, its contract spelling (serde and
/// `as_str`), `ALL` in contract order, and `Display`.
macro_rules! codes {
    ($(#[$meta:meta])* $name:ident { $($variant:ident => $code:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        pub enum $name {
            $(#[serde(rename = $code)] $variant),+
        }
        impl $name {
            /// Every code, in the contract's order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            /// The contract's spelling.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $code),+ }
            }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

/// The id of one event (a UUID chosen by whoever logs it).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct EventId(pub Uuid);

/// The id of a participant's stream: name-free, safe to show in lists.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ParticipantId(pub Uuid);

impl fmt::Display for EventId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "event {}", self.0)
    }
}
impl fmt::Debug for EventId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "EventId({})", self.0)
    }
}
impl fmt::Display for ParticipantId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}
impl fmt::Debug for ParticipantId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ParticipantId({})", self.0)
    }
}

/// One event as logged: who it concerns, when it took effect, when and by
/// whom it was recorded, and what happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub id: EventId,
    pub participant: ParticipantId,
    pub unit: UnitCode,
    /// The day it took effect in the world. For exits: the last day in the programme.
    pub date: NaiveDate,
    pub recorded_at: DateTime<Utc>,
    pub by: Option<String>,
    pub body: EventBody,
}

/// What happened, with the type's own fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventBody {
    /// Registrert: the first event of every stream.
    Registered(Registered),
    /// Krav om program.
    Claimed,
    /// Tilbud om program.
    Offered,
    /// Vedtak om program.
    Granted(Granted),
    /// Avslag.
    Refused(Refused),
    /// Oppstart: the first day in the programme.
    Started,
    /// Permisjon innvilget.
    LeaveGranted(LeaveGranted),
    /// Tilbake fra permisjon: `date` is the first day back.
    LeaveEnded,
    /// Forlengelse.
    Extended(Extended),
    /// Tiltak startet.
    MeasureStarted(MeasureStarted),
    /// Tiltak avsluttet.
    MeasureEnded(MeasureEnded),
    /// Fravær.
    Absence(Absence),
    /// Overlevering (kartleggingsskjema til NAV, første møte).
    Handover(Handover),
    /// Avsluttet introprogram.
    Completed(Completed),
    /// Vedtak om permanent stans.
    Stopped(Stopped),
    /// Avbrutt introprogram.
    Interrupted(Interrupted),
    /// Kontakt etter avslutning.
    FollowUp(FollowUp),
    /// Tilbaketrukket: the earlier event was entered in error.
    Retracted(Retracted),
}

codes! {
    /// The `type` field of the interchange format.
    EventKind {
        Registered => "registered",
        Claimed => "claimed",
        Offered => "offered",
        Granted => "granted",
        Refused => "refused",
        Started => "started",
        LeaveGranted => "leave_granted",
        LeaveEnded => "leave_ended",
        Extended => "extended",
        MeasureStarted => "measure_started",
        MeasureEnded => "measure_ended",
        Absence => "absence",
        Handover => "handover",
        Completed => "completed",
        Stopped => "stopped",
        Interrupted => "interrupted",
        FollowUp => "follow_up",
        Retracted => "retracted",
    }
}

impl EventKind {
    /// Whether this kind ends the programme.
    pub fn is_exit(self) -> bool {
        matches!(self, Self::Completed | Self::Stopped | Self::Interrupted)
    }
}

impl std::str::FromStr for EventKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .iter()
            .copied()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| format!("`{s}` is not an event type"))
    }
}

impl EventBody {
    pub fn kind(&self) -> EventKind {
        match self {
            Self::Registered(_) => EventKind::Registered,
            Self::Claimed => EventKind::Claimed,
            Self::Offered => EventKind::Offered,
            Self::Granted(_) => EventKind::Granted,
            Self::Refused(_) => EventKind::Refused,
            Self::Started => EventKind::Started,
            Self::LeaveGranted(_) => EventKind::LeaveGranted,
            Self::LeaveEnded => EventKind::LeaveEnded,
            Self::Extended(_) => EventKind::Extended,
            Self::MeasureStarted(_) => EventKind::MeasureStarted,
            Self::MeasureEnded(_) => EventKind::MeasureEnded,
            Self::Absence(_) => EventKind::Absence,
            Self::Handover(_) => EventKind::Handover,
            Self::Completed(_) => EventKind::Completed,
            Self::Stopped(_) => EventKind::Stopped,
            Self::Interrupted(_) => EventKind::Interrupted,
            Self::FollowUp(_) => EventKind::FollowUp,
            Self::Retracted(_) => EventKind::Retracted,
        }
    }

    /// The exit this event records, if it is one.
    pub fn exit(&self) -> Option<Exit> {
        match self {
            Self::Completed(c) => Some(Exit::Completed(c.clone())),
            Self::Stopped(s) => Some(Exit::Stopped(s.clone())),
            Self::Interrupted(i) => Some(Exit::Interrupted(i.clone())),
            _ => None,
        }
    }
}

codes! {
    /// Grunnlag for opphold.
    Basis {
        Asylum => "asylum",
        CollectiveProtection => "collective_protection",
        Resettlement => "resettlement",
        Humanitarian => "humanitarian",
        FamilyReunification => "family_reunification",
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Registered {
    pub person: PersonNumber,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub birth_date: Option<NaiveDate>,
    pub basis: Basis,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Granted {
    /// Planned length in calendar months, normally 24.
    pub months: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Refused {
    pub reason: String,
}

codes! {
    /// Permisjonsgrunn.
    LeaveReason {
        Parental => "parental",
        Illness => "illness",
        Other => "other",
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LeaveGranted {
    /// First day of leave.
    pub from: NaiveDate,
    /// Last day of leave, inclusive.
    pub to: NaiveDate,
    pub reason: LeaveReason,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Extended {
    /// The new total planned length in months, at most 36.
    pub months: u32,
}

/// Hours, with at most one decimal (37,5 is a full week). Kept in tenths so
/// that events compare exactly; written back as the number that was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Hours {
    tenths: u32,
}

impl Hours {
    pub fn tenths(self) -> u32 {
        self.tenths
    }
    pub fn from_tenths(tenths: u32) -> Self {
        Self { tenths }
    }
}

impl fmt::Display for Hours {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.tenths.is_multiple_of(10) {
            write!(f, "{}", self.tenths / 10)
        } else {
            write!(f, "{}.{}", self.tenths / 10, self.tenths % 10)
        }
    }
}

impl Serialize for Hours {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if self.tenths.is_multiple_of(10) {
            s.serialize_u32(self.tenths / 10)
        } else {
            s.serialize_f64(f64::from(self.tenths) / 10.0)
        }
    }
}

impl<'de> Deserialize<'de> for Hours {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let x = f64::deserialize(d)?;
        let tenths = (x * 10.0).round();
        if !x.is_finite() || !(0.0..=1000.0).contains(&x) || (tenths - x * 10.0).abs() > 1e-6 {
            return Err(serde::de::Error::custom(format!(
                "{x} is not a number of hours with at most one decimal"
            )));
        }
        // In range 0..=10000 after the check above, so the conversion is exact.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        Ok(Self {
            tenths: tenths as u32,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MeasureStarted {
    /// Short code of the measure (tiltak).
    pub measure: String,
    pub hours_per_week: Hours,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MeasureEnded {
    pub measure: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Absence {
    pub hours: Hours,
    pub approved: bool,
}

codes! {
    HandoverTo {
        Nav => "nav",
        Other => "other",
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Handover {
    pub to: HandoverTo,
}

codes! {
    /// Reasons for `completed` (avsluttet introprogram).
    CompletedReason {
        WorkFullTime => "work_full_time",
        WorkPartTime => "work_part_time",
        UpperSecondary => "upper_secondary",
        HigherEducation => "higher_education",
        WageSubsidy => "wage_subsidy",
        NavMeasure => "nav_measure",
        OtherMeasure => "other_measure",
        PrimarySchool => "primary_school",
        NotJobseeker => "not_jobseeker",
        Other => "other",
    }
}

codes! {
    /// Reasons for `stopped` (vedtak om permanent stans).
    StoppedReason {
        WorkFullTime => "work_full_time",
        WorkPartTime => "work_part_time",
        UpperSecondary => "upper_secondary",
        HigherEducation => "higher_education",
        Behaviour => "behaviour",
        Health => "health",
        Other => "other",
    }
}

codes! {
    /// Reasons for `interrupted` (avbrutt introprogram).
    InterruptedReason {
        Death => "death",
        Moved => "moved",
        Unknown => "unknown",
    }
}

codes! {
    /// Hovedaktivitet ved avslutning.
    MainActivity {
        UpperSecondary => "upper_secondary",
        HigherEducation => "higher_education",
        Work => "work",
        WageSubsidy => "wage_subsidy",
        NavMeasure => "nav_measure",
        PrimarySchool => "primary_school",
        OtherMeasure => "other_measure",
        NoActivity => "no_activity",
    }
}

codes! {
    /// Livsopphold ved avslutning.
    Support {
        SocialAssistance => "social_assistance",
        InsuranceBenefit => "insurance_benefit",
        OtherSupport => "other_support",
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Completed {
    pub reason: CompletedReason,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub main_activity: Option<MainActivity>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub support: Vec<Support>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Stopped {
    pub reason: StoppedReason,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub main_activity: Option<MainActivity>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub support: Vec<Support>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Interrupted {
    pub reason: InterruptedReason,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to_unit: Option<UnitCode>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub support: Vec<Support>,
}

codes! {
    /// Resultat av kontakt etter avslutning.
    FollowUpOutcome {
        Work => "work",
        Education => "education",
        Measure => "measure",
        PrimarySchool => "primary_school",
        NoActivity => "no_activity",
        Moved => "moved",
        Unreachable => "unreachable",
    }
}

codes! {
    Channel {
        Phone => "phone",
        Meeting => "meeting",
        Letter => "letter",
        Other => "other",
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FollowUp {
    pub outcome: FollowUpOutcome,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<Channel>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Retracted {
    pub event: EventId,
    pub why: String,
}

/// An exit of any of the three kinds, as the survey reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Exit {
    Completed(Completed),
    Stopped(Stopped),
    Interrupted(Interrupted),
}

impl Exit {
    pub fn kind(&self) -> EventKind {
        match self {
            Self::Completed(_) => EventKind::Completed,
            Self::Stopped(_) => EventKind::Stopped,
            Self::Interrupted(_) => EventKind::Interrupted,
        }
    }

    /// The reason as its contract code, e.g. `work_full_time`.
    pub fn reason_code(&self) -> &'static str {
        match self {
            Self::Completed(c) => c.reason.as_str(),
            Self::Stopped(s) => s.reason.as_str(),
            Self::Interrupted(i) => i.reason.as_str(),
        }
    }

    /// Main activity at exit (contract §2): the given `main_activity`, else
    /// derived from the reason. Interruptions and stops for behaviour or
    /// health have none.
    pub fn main_activity(&self) -> Option<MainActivity> {
        match self {
            Self::Completed(c) => c.main_activity.or(match c.reason {
                CompletedReason::WorkFullTime | CompletedReason::WorkPartTime => {
                    Some(MainActivity::Work)
                }
                CompletedReason::UpperSecondary => Some(MainActivity::UpperSecondary),
                CompletedReason::HigherEducation => Some(MainActivity::HigherEducation),
                CompletedReason::WageSubsidy => Some(MainActivity::WageSubsidy),
                CompletedReason::NavMeasure => Some(MainActivity::NavMeasure),
                CompletedReason::OtherMeasure => Some(MainActivity::OtherMeasure),
                CompletedReason::PrimarySchool => Some(MainActivity::PrimarySchool),
                CompletedReason::NotJobseeker => Some(MainActivity::NoActivity),
                CompletedReason::Other => None,
            }),
            Self::Stopped(s) => s.main_activity.or(match s.reason {
                StoppedReason::WorkFullTime | StoppedReason::WorkPartTime => {
                    Some(MainActivity::Work)
                }
                StoppedReason::UpperSecondary => Some(MainActivity::UpperSecondary),
                StoppedReason::HigherEducation => Some(MainActivity::HigherEducation),
                StoppedReason::Behaviour | StoppedReason::Health | StoppedReason::Other => None,
            }),
            Self::Interrupted(_) => None,
        }
    }

    pub fn support(&self) -> &[Support] {
        match self {
            Self::Completed(c) => &c.support,
            Self::Stopped(s) => &s.support,
            Self::Interrupted(i) => &i.support,
        }
    }
}
