//! The bokmål wording of what people read, in one place for every front end
//! (the command line's tables, the server's error messages, the web pages):
//! what the rules refuse, event kinds, statuses, exit reasons and the other
//! code lists, and an event's details. Codes stay in English for machines;
//! these are the words people read.

use spor_domain::event::{
    Basis, Channel, CompletedReason, FollowUpOutcome, HandoverTo, InterruptedReason, LeaveReason,
    MainActivity, StoppedReason, Support,
};
use spor_domain::{EventBody, EventKind, Rule};
use spor_projections::lint::LintRule;
use spor_projections::status::State;

use crate::ingest::LineProblem;

/// What a rule asks for, as an adviser reads it next to the field.
pub fn rule(rule: Rule) -> &'static str {
    match rule {
        Rule::UnitMismatch => {
            "Hendelsen har en annen enhet enn deltakeren. En flytting registreres som avbrudd (flyttet) og en ny deltaker i den nye enheten."
        }
        Rule::PersonNumber => "Fødselsnummeret, D-nummeret eller DUF-nummeret er ikke gyldig.",
        Rule::DufWithoutBirthDate => "Et DUF-nummer må ha fødselsdato ved siden av.",
        Rule::BirthDateMismatch => "Fødselsdatoen stemmer ikke med identitetsnummeret.",
        Rule::LeavePeriodReversed => {
            "Permisjonen slutter før den begynner. «Til» må være samme dag som «fra» eller senere."
        }
        Rule::MonthsOutOfRange => "Et program innvilges for fra 1 til 36 måneder.",
        Rule::ExtensionTooLong => {
            "Programmet kan ikke forlenges til mer enn 36 måneder til sammen."
        }
        Rule::ExtensionNotLonger => {
            "En forlengelse oppgir ny samlet lengde, og den må være lengre enn den som allerede er innvilget."
        }
        Rule::MainActivityRequired => "Årsaken «annet» krever at hovedaktivitet er oppgitt.",
        Rule::MainActivityNotAllowed => "Hovedaktivitet oppgis bare når årsaken er «annet».",
        Rule::ToUnitOnlyWhenMoved => "Ny enhet oppgis bare når årsaken er flytting.",
        Rule::ToUnitIsOwnUnit => "Ny enhet kan ikke være deltakerens egen enhet.",
        Rule::DuplicateSupport => "Samme type stønad er oppgitt to ganger.",
        Rule::TextMissing => "Feltet må fylles ut.",
        Rule::TextTooLong => "Teksten er for lang.",
        Rule::HoursOutOfRange => "Antall timer må være større enn 0 og innenfor grensen.",
        Rule::DateAfterRecording => {
            "Datoen er etter at hendelsen ble registrert. En hendelse registreres samme dag som den skjer, eller senere."
        }
        Rule::DateOutOfRange => "Datoen er før 1990. Sjekk årstallet.",
        Rule::FirstNotRegistered => "Den første hendelsen for en deltaker må være registrering.",
        Rule::AlreadyRegistered => "Deltakeren er allerede registrert.",
        Rule::DecisionWithoutApplication => "Et vedtak må ha et krav eller et tilbud før seg.",
        Rule::ApplicationAfterGrant => {
            "Programmet er allerede innvilget; krav og tilbud kommer før vedtaket."
        }
        Rule::AlreadyGranted => {
            "Programmet er allerede innvilget. Bruk forlengelse for å endre lengden."
        }
        Rule::StartWithoutGrant => "Oppstart krever et innvilget program før seg.",
        Rule::AlreadyStarted => "Programmet har allerede startet.",
        Rule::NotInProgramme => "Hendelsen krever at programmet har startet.",
        Rule::LeaveBeforeStart => {
            "Permisjonen begynner før programmet startet. En permisjon ligger innenfor programmet."
        }
        Rule::LeaveAfterExit => {
            "Permisjonen begynner etter avslutningen. En permisjon ligger innenfor programmet."
        }
        Rule::LeaveEndedWithoutLeave => {
            "Avsluttet permisjon krever en permisjon som begynte før denne datoen."
        }
        Rule::MeasureAlreadyOpen => "Tiltaket pågår allerede. Avslutt det før det startes på nytt.",
        Rule::MeasureNotStarted => "Tiltaket er ikke startet.",
        Rule::ExitBeforeStart => "Bare et program som har startet, kan avsluttes.",
        Rule::SecondExit => "Programmet er allerede avsluttet. En deltaker har én avslutning.",
        Rule::AfterExit => "Etter avslutningen kan bare oppfølging og tilbaketrekking registreres.",
        Rule::FollowUpWithoutExit => "Oppfølging etter avslutning krever en avslutning før seg.",
        Rule::RetractUnknown => {
            "Hendelsen som skal trekkes tilbake, finnes ikke hos denne deltakeren."
        }
        Rule::RetractRetraction => {
            "En tilbaketrekking kan ikke trekkes tilbake. Registrer hendelsen på nytt."
        }
        Rule::AlreadyRetracted => "Hendelsen er allerede trukket tilbake.",
    }
}

/// A refused line of an import, in bokmål.
pub fn line_problem(problem: &LineProblem) -> String {
    match problem {
        LineProblem::TooLong => "Linjen er for lang.".into(),
        LineProblem::NotUtf8 => "Linjen er ikke gyldig UTF-8.".into(),
        LineProblem::Shape(e) => format!("Linjen er ikke en gyldig hendelse: {e}"),
        LineProblem::Refused(r) => rule(r.rule()).into(),
        LineProblem::IdRepeated { first, .. } => {
            format!("Samme id står også på linje {first}, med annet innhold.")
        }
        LineProblem::IdReused { .. } => {
            "Id-en er allerede lagret med annet innhold. En id gjelder én hendelse for alltid."
                .into()
        }
        LineProblem::UnitNotPermitted { unit } => {
            format!("Enhet {unit} er ikke en av dine enheter.")
        }
        LineProblem::NoSuchParticipant { .. } => {
            "Ingen deltaker med denne id-en i dine enheter.".into()
        }
    }
}

/// An event's kind, as an adviser names it.
pub fn event_kind(kind: EventKind) -> &'static str {
    match kind {
        EventKind::Registered => "registrert",
        EventKind::Claimed => "krav om program",
        EventKind::Offered => "tilbud om program",
        EventKind::Granted => "vedtak om program",
        EventKind::Refused => "avslag",
        EventKind::Started => "oppstart",
        EventKind::LeaveGranted => "permisjon",
        EventKind::LeaveEnded => "tilbake fra permisjon",
        EventKind::Extended => "forlengelse",
        EventKind::MeasureStarted => "tiltak startet",
        EventKind::MeasureEnded => "tiltak avsluttet",
        EventKind::Absence => "fravær",
        EventKind::Handover => "overlevering",
        EventKind::Completed => "fullført",
        EventKind::Stopped => "permanent stans",
        EventKind::Interrupted => "avbrutt",
        EventKind::FollowUp => "kontakt etter avslutning",
        EventKind::Retracted => "tilbaketrekking",
    }
}

/// A participant's status, as an adviser names it.
pub fn state(state: State) -> &'static str {
    match state {
        State::Registered => "registrert",
        State::Claimed => "har krevd program",
        State::Offered => "har fått tilbud",
        State::Granted => "innvilget, ikke startet",
        State::Refused => "avslått",
        State::Active => "i program",
        State::OnLeave => "i permisjon",
        State::Ended => "avsluttet",
    }
}

/// The reason of an exit (`completed`, `stopped` or `interrupted`), by its
/// code; the three lists share their codes where they mean the same.
pub fn exit_reason(code: &str) -> &'static str {
    let completed = CompletedReason::ALL
        .iter()
        .find(|r| r.as_str() == code)
        .map(|r| completed_reason(*r));
    let stopped = StoppedReason::ALL
        .iter()
        .find(|r| r.as_str() == code)
        .map(|r| stopped_reason(*r));
    let interrupted = InterruptedReason::ALL
        .iter()
        .find(|r| r.as_str() == code)
        .map(|r| interrupted_reason(*r));
    completed
        .or(stopped)
        .or(interrupted)
        .unwrap_or("ukjent årsak")
}

pub fn completed_reason(r: CompletedReason) -> &'static str {
    match r {
        CompletedReason::WorkFullTime => "arbeid, 30 timer i uka eller mer",
        CompletedReason::WorkPartTime => "arbeid, under 30 timer i uka",
        CompletedReason::UpperSecondary => "videregående opplæring",
        CompletedReason::HigherEducation => "høyere utdanning",
        CompletedReason::WageSubsidy => "arbeidssøker med lønnstilskudd",
        CompletedReason::NavMeasure => "arbeidssøker i annet NAV-tiltak",
        CompletedReason::OtherMeasure => "arbeidssøker i tiltak utenfor NAV",
        CompletedReason::PrimarySchool => "grunnskole",
        CompletedReason::NotJobseeker => "ikke arbeidssøker",
        CompletedReason::Other => "annet",
    }
}

pub fn stopped_reason(r: StoppedReason) -> &'static str {
    match r {
        StoppedReason::WorkFullTime => "arbeid, 30 timer i uka eller mer",
        StoppedReason::WorkPartTime => "arbeid, under 30 timer i uka",
        StoppedReason::UpperSecondary => "videregående opplæring",
        StoppedReason::HigherEducation => "høyere utdanning",
        StoppedReason::Behaviour => "atferd",
        StoppedReason::Health => "helsemessige årsaker",
        StoppedReason::Other => "annet",
    }
}

pub fn interrupted_reason(r: InterruptedReason) -> &'static str {
    match r {
        InterruptedReason::Death => "død",
        InterruptedReason::Moved => "flyttet",
        InterruptedReason::Unknown => "ukjent årsak, forsvunnet",
    }
}

pub fn main_activity(a: MainActivity) -> &'static str {
    match a {
        MainActivity::UpperSecondary => "videregående opplæring",
        MainActivity::HigherEducation => "høyere utdanning",
        MainActivity::Work => "arbeid",
        MainActivity::WageSubsidy => "lønnstilskudd",
        MainActivity::NavMeasure => "annet NAV-tiltak",
        MainActivity::PrimarySchool => "grunnskole",
        MainActivity::OtherMeasure => "tiltak utenfor NAV",
        MainActivity::NoActivity => "ingen aktivitet",
    }
}

pub fn support(s: Support) -> &'static str {
    match s {
        Support::SocialAssistance => "sosialhjelp",
        Support::InsuranceBenefit => "trygdeytelse",
        Support::OtherSupport => "annet livsopphold",
    }
}

pub fn basis(b: Basis) -> &'static str {
    match b {
        Basis::Asylum => "asyl",
        Basis::CollectiveProtection => "kollektiv beskyttelse",
        Basis::Resettlement => "overføringsflyktning",
        Basis::Humanitarian => "opphold på humanitært grunnlag",
        Basis::FamilyReunification => "familiegjenforening",
    }
}

pub fn leave_reason(r: LeaveReason) -> &'static str {
    match r {
        LeaveReason::Parental => "foreldrepermisjon",
        LeaveReason::Illness => "sykdom",
        LeaveReason::Other => "annet",
    }
}

pub fn follow_up_outcome(o: FollowUpOutcome) -> &'static str {
    match o {
        FollowUpOutcome::Work => "i arbeid",
        FollowUpOutcome::Education => "i utdanning",
        FollowUpOutcome::Measure => "i tiltak",
        FollowUpOutcome::PrimarySchool => "i grunnskole",
        FollowUpOutcome::NoActivity => "uten aktivitet",
        FollowUpOutcome::Moved => "flyttet",
        FollowUpOutcome::Unreachable => "ikke nådd",
    }
}

pub fn channel(c: Channel) -> &'static str {
    match c {
        Channel::Phone => "telefon",
        Channel::Meeting => "møte",
        Channel::Letter => "brev",
        Channel::Other => "annet",
    }
}

/// A data-quality rule's short name, for the rule column of a table.
pub fn lint_rule(rule: &LintRule) -> &'static str {
    match rule {
        LintRule::PastPlannedEnd { .. } => "forbi planlagt slutt",
        LintRule::NoEventFor { .. } => "lenge uten hendelse",
        LintRule::ExitRecordedLate { .. } => "avslutning registrert sent",
        LintRule::LeaveWithoutReturn { .. } => "permisjon uten retur",
        LintRule::UnitNotInCodeTable => "ukjent enhetsnummer",
        LintRule::RegisteredTwice { .. } => "registrert to ganger",
    }
}

/// Hours with a decimal comma: `7,5`.
fn hours(h: impl std::fmt::Display) -> String {
    h.to_string().replace('.', ",")
}

/// `05.01.2008`.
fn date(d: chrono::NaiveDate) -> String {
    d.format("%d.%m.%Y").to_string()
}

/// What an event says beyond its kind and date, in a few words: `24
/// måneder`, `NORSK, 20 timer i uka`. The identity number is masked.
pub fn details(body: &EventBody) -> String {
    let with_support = |mut text: String, s: &[Support]| {
        if !s.is_empty() {
            let kinds: Vec<&str> = s.iter().map(|k| support(*k)).collect();
            text.push_str("; livsopphold: ");
            text.push_str(&kinds.join(", "));
        }
        text
    };
    let with_activity = |mut text: String, a: Option<MainActivity>| {
        if let Some(a) = a {
            text.push_str("; hovedaktivitet: ");
            text.push_str(main_activity(a));
        }
        text
    };
    match body {
        EventBody::Registered(r) => {
            let mut text = format!("{}, {}", r.person.masked(), basis(r.basis));
            if let Some(born) = r.birth_date {
                text.push_str(&format!(", født {}", date(born)));
            }
            text
        }
        EventBody::Claimed | EventBody::Offered | EventBody::Started | EventBody::LeaveEnded => {
            String::new()
        }
        EventBody::Granted(g) => format!("{} måneder", g.months),
        EventBody::Extended(e) => format!("til {} måneder i alt", e.months),
        EventBody::Refused(r) => r.reason.clone(),
        EventBody::LeaveGranted(l) => format!(
            "{}–{}, {}",
            date(l.from),
            date(l.to),
            leave_reason(l.reason)
        ),
        EventBody::MeasureStarted(m) => {
            format!("{}, {} timer i uka", m.measure, hours(m.hours_per_week))
        }
        EventBody::MeasureEnded(m) => m.measure.clone(),
        EventBody::Absence(a) => format!(
            "{} timer, {}",
            hours(a.hours),
            if a.approved {
                "godkjent"
            } else {
                "ikke godkjent"
            }
        ),
        EventBody::Handover(h) => match h.to {
            HandoverTo::Nav => "til NAV".into(),
            HandoverTo::Other => "til andre".into(),
        },
        EventBody::Completed(c) => with_support(
            with_activity(completed_reason(c.reason).to_owned(), c.main_activity),
            &c.support,
        ),
        EventBody::Stopped(s) => with_support(
            with_activity(stopped_reason(s.reason).to_owned(), s.main_activity),
            &s.support,
        ),
        EventBody::Interrupted(i) => {
            let mut text = interrupted_reason(i.reason).to_owned();
            if let Some(to) = i.to_unit {
                text.push_str(&format!(" til {to}"));
            }
            with_support(text, &i.support)
        }
        EventBody::FollowUp(f) => {
            let mut text = follow_up_outcome(f.outcome).to_owned();
            if let Some(c) = f.channel {
                text.push_str(&format!(" ({})", channel(c)));
            }
            if let Some(note) = &f.note {
                text.push_str(": ");
                text.push_str(note);
            }
            text
        }
        EventBody::Retracted(r) => r.why.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An exit reason is worded by its code alone: a code the completed
    /// and stopped lists share must mean the same in both, and every code
    /// gets its own list's wording.
    #[test]
    fn an_exit_reason_reads_the_same_whichever_list_its_code_is_from() {
        for r in CompletedReason::ALL {
            assert_eq!(exit_reason(r.as_str()), completed_reason(*r), "{r}");
        }
        for r in StoppedReason::ALL {
            assert_eq!(exit_reason(r.as_str()), stopped_reason(*r), "{r}");
        }
        for r in InterruptedReason::ALL {
            assert_eq!(exit_reason(r.as_str()), interrupted_reason(*r), "{r}");
        }
    }
}
