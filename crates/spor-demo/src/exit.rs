//! The end of the programme and what follows it: the kind and reason of the
//! exit (in the mix of IMDi's 2007 report), the main activity and support at
//! exit, a wrong reason now and then corrected, and the follow-up contacts
//! about 2, 6 and 12 months after.

use chrono::NaiveDate;
use rand::Rng;
use spor_domain::calendar::{add_days, add_months};
use spor_domain::event::{
    Channel, Completed, CompletedReason, EventBody, EventId, Exit, FollowUp, FollowUpOutcome,
    Interrupted, InterruptedReason, MainActivity, Stopped, StoppedReason, Support,
};

use crate::life::{After, Planner, minus, pick, weekday};

/// How the programme ends.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Ending {
    Completed(CompletedReason),
    Stopped(StoppedReason),
    Interrupted(InterruptedReason),
}

/// Contact about 2, 6 and 12 months after the exit, more often with job
/// seekers at 12 months (the ministry's one-year target); now and then one
/// entered on the wrong person and retracted.
pub(crate) fn plan_follow_ups<R: Rng>(
    p: &mut Planner<'_, R>,
    exit: EventId,
    last: NaiveDate,
    body: &EventBody,
) {
    let main = body.exit().and_then(|x| x.main_activity());
    let jobseeker = matches!(
        main,
        Some(MainActivity::WageSubsidy | MainActivity::NavMeasure | MainActivity::OtherMeasure)
    );
    let plan = [(2, 0.7), (6, 0.5), (12, if jobseeker { 0.7 } else { 0.45 })];
    let mut any = None;
    for (months, chance) in plan {
        if !p.rng.random_bool(chance) {
            continue;
        }
        // Mostly within the reminder's month either side; now and then late.
        let slack = if p.rng.random_bool(0.06) {
            p.rng.random_range(35..=60)
        } else {
            p.rng.random_range(0..=40)
        };
        let date = weekday(add_days(minus(add_months(last, months), 20), slack));
        let outcome = follow_up_outcome(p.rng, main, months);
        any = Some(date);
        let body = follow_up(p.rng, outcome);
        p.routine(date, body, exit);
    }
    if let Some(date) = any
        && p.rng.random_bool(0.04)
    {
        let body = follow_up(p.rng, FollowUpOutcome::Unreachable);
        let mistake = p.routine(date, body, exit);
        p.retract(mistake, date, WHY_FOLLOW_UP, After::Event(mistake));
    }
}

fn follow_up(rng: &mut impl Rng, outcome: FollowUpOutcome) -> EventBody {
    let channel = pick(
        rng,
        &[
            (Some(Channel::Phone), 65),
            (Some(Channel::Meeting), 12),
            (Some(Channel::Letter), 8),
            (Some(Channel::Other), 5),
            (None, 10),
        ],
    );
    let note = rng.random_bool(0.3).then(|| note(outcome).to_owned());
    EventBody::FollowUp(FollowUp {
        outcome,
        channel,
        note,
    })
}

/// What the adviser hears: mostly what the person went on to, less of it
/// the longer ago the exit was.
fn follow_up_outcome(
    rng: &mut impl Rng,
    main: Option<MainActivity>,
    months: u32,
) -> FollowUpOutcome {
    use FollowUpOutcome as O;
    let unreachable = 6 + months;
    match main {
        Some(MainActivity::Work | MainActivity::WageSubsidy) => pick(
            rng,
            &[
                (O::Work, 75),
                (O::Measure, 5),
                (O::NoActivity, 8),
                (O::Moved, 3),
                (O::Unreachable, unreachable),
            ],
        ),
        Some(MainActivity::UpperSecondary | MainActivity::HigherEducation) => pick(
            rng,
            &[
                (O::Education, 75),
                (O::Work, 8),
                (O::NoActivity, 4),
                (O::Moved, 3),
                (O::Unreachable, unreachable),
            ],
        ),
        Some(MainActivity::NavMeasure | MainActivity::OtherMeasure) => pick(
            rng,
            &[
                (O::Measure, 45),
                (O::Work, 25),
                (O::Education, 5),
                (O::NoActivity, 12),
                (O::Unreachable, unreachable),
            ],
        ),
        Some(MainActivity::PrimarySchool) => pick(
            rng,
            &[
                (O::PrimarySchool, 60),
                (O::Education, 15),
                (O::Measure, 10),
                (O::Unreachable, unreachable),
            ],
        ),
        Some(MainActivity::NoActivity) | None => pick(
            rng,
            &[
                (O::NoActivity, 45),
                (O::Work, 10),
                (O::Measure, 15),
                (O::Moved, 5),
                (O::Unreachable, 2 * unreachable),
            ],
        ),
    }
}

fn note(outcome: FollowUpOutcome) -> &'static str {
    match outcome {
        FollowUpOutcome::Work => "Fast ansatt, trives godt",
        FollowUpOutcome::Education => "Går på videregående, følger normal progresjon",
        FollowUpOutcome::Measure => "Deltar på tiltak hos NAV",
        FollowUpOutcome::PrimarySchool => "Fortsetter i grunnskole for voksne",
        FollowUpOutcome::NoActivity => "Hjemme med barn, ønsker kurs senere",
        FollowUpOutcome::Moved => "Har flyttet, ny adresse ukjent",
        FollowUpOutcome::Unreachable => "Ikke svar på telefon eller brev",
    }
}

/// The exit's fields: `main_activity` exactly when the reason is `other`,
/// `to_unit` only for a move, and support more often without work.
pub(crate) fn exit_body(
    rng: &mut impl Rng,
    ending: Ending,
    to_unit: Option<spor_domain::UnitCode>,
) -> EventBody {
    match ending {
        Ending::Completed(reason) => {
            let main_activity =
                (reason == CompletedReason::Other).then(|| pick(rng, OTHER_ACTIVITIES));
            let main = main_activity.or_else(|| {
                Exit::Completed(Completed {
                    reason,
                    main_activity: None,
                    support: Vec::new(),
                })
                .main_activity()
            });
            EventBody::Completed(Completed {
                reason,
                main_activity,
                support: support(rng, main, false),
            })
        }
        Ending::Stopped(reason) => {
            let main_activity = (reason == StoppedReason::Other).then(|| {
                pick(
                    rng,
                    &[
                        (MainActivity::NoActivity, 6),
                        (MainActivity::OtherMeasure, 2),
                        (MainActivity::Work, 1),
                        (MainActivity::PrimarySchool, 1),
                    ],
                )
            });
            let main = main_activity.or_else(|| {
                Exit::Stopped(Stopped {
                    reason,
                    main_activity: None,
                    support: Vec::new(),
                })
                .main_activity()
            });
            let ill = reason == StoppedReason::Health;
            EventBody::Stopped(Stopped {
                reason,
                main_activity,
                support: support(rng, main, ill),
            })
        }
        Ending::Interrupted(reason) => {
            let support = if reason == InterruptedReason::Death {
                Vec::new()
            } else {
                support(rng, None, false)
            };
            EventBody::Interrupted(Interrupted {
                reason,
                to_unit,
                support,
            })
        }
    }
}

/// Another reason of the same kind: the mistake a corrected exit replaces.
pub(crate) fn wrong_reason(rng: &mut impl Rng, ending: Ending) -> Ending {
    loop {
        let wrong = match ending {
            Ending::Completed(_) => Ending::Completed(pick(rng, COMPLETED_REASONS)),
            Ending::Stopped(_) => Ending::Stopped(pick(rng, STOPPED_REASONS)),
            Ending::Interrupted(_) => return ending,
        };
        let same = match (wrong, ending) {
            (Ending::Completed(a), Ending::Completed(b)) => a == b,
            (Ending::Stopped(a), Ending::Stopped(b)) => a == b,
            _ => false,
        };
        if !same {
            return wrong;
        }
    }
}

/// Support at exit (livsopphold), counted apart from the main activity.
fn support(rng: &mut impl Rng, main: Option<MainActivity>, ill: bool) -> Vec<Support> {
    let social = match main {
        Some(MainActivity::Work) => 0.08,
        Some(MainActivity::UpperSecondary | MainActivity::HigherEducation) => 0.2,
        Some(
            MainActivity::WageSubsidy
            | MainActivity::NavMeasure
            | MainActivity::OtherMeasure
            | MainActivity::PrimarySchool,
        ) => 0.3,
        Some(MainActivity::NoActivity) | None => 0.55,
    };
    let insurance = if ill { 0.6 } else { 0.05 };
    let other = match main {
        // Student loans and grants (Lånekassen).
        Some(MainActivity::UpperSecondary | MainActivity::HigherEducation) => 0.35,
        _ => 0.08,
    };
    let mut list = Vec::new();
    if rng.random_bool(social) {
        list.push(Support::SocialAssistance);
    }
    if rng.random_bool(insurance) {
        list.push(Support::InsuranceBenefit);
    }
    if rng.random_bool(other) {
        list.push(Support::OtherSupport);
    }
    list
}

/// Most completions go to work or education; measures, primary school and
/// "not a job seeker" make up the rest (IMDi's 2007 report).
pub(crate) const COMPLETED_REASONS: &[(CompletedReason, u32)] = &[
    (CompletedReason::WorkFullTime, 22),
    (CompletedReason::WorkPartTime, 10),
    (CompletedReason::UpperSecondary, 10),
    (CompletedReason::HigherEducation, 5),
    (CompletedReason::WageSubsidy, 7),
    (CompletedReason::NavMeasure, 10),
    (CompletedReason::OtherMeasure, 6),
    (CompletedReason::PrimarySchool, 8),
    (CompletedReason::NotJobseeker, 5),
    (CompletedReason::Other, 4),
];

pub(crate) const STOPPED_REASONS: &[(StoppedReason, u32)] = &[
    (StoppedReason::WorkFullTime, 20),
    (StoppedReason::WorkPartTime, 10),
    (StoppedReason::UpperSecondary, 8),
    (StoppedReason::HigherEducation, 4),
    (StoppedReason::Behaviour, 15),
    (StoppedReason::Health, 25),
    (StoppedReason::Other, 18),
];

pub(crate) const INTERRUPTED_REASONS: &[(InterruptedReason, u32)] = &[
    (InterruptedReason::Death, 4),
    (InterruptedReason::Moved, 56),
    (InterruptedReason::Unknown, 40),
];

/// The main activity given with reason `other` at completion.
const OTHER_ACTIVITIES: &[(MainActivity, u32)] = &[
    (MainActivity::UpperSecondary, 2),
    (MainActivity::HigherEducation, 1),
    (MainActivity::Work, 3),
    (MainActivity::WageSubsidy, 2),
    (MainActivity::NavMeasure, 2),
    (MainActivity::PrimarySchool, 2),
    (MainActivity::OtherMeasure, 2),
    (MainActivity::NoActivity, 3),
];

pub(crate) const WHY_EXIT: &str = "Feil avslutningsgrunn; avslutningen er ført på nytt";

const WHY_FOLLOW_UP: &str = "Kontakten gjaldt en annen tidligere deltaker";
