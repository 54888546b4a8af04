//! The bokmål wording of what the rules refuse, in one place for every front
//! end that speaks to advisers (the server's error messages, the web pages).
//! Codes stay in English for machines; these are the sentences people read.

use spor_domain::Rule;

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
