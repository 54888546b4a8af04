//! Publishing a year (reliability P4). A publication is recorded when the
//! report is made: the year, the time its figures reflect, the log's head
//! and every figure shown. A later publication of the same year must show
//! the same figures as every recorded one, or it is refused: two versions
//! of a year's tables could be subtracted from each other, and the
//! difference can single out the few people whose events came late. The
//! recorded version can always be made again with its `--known-at`, since
//! the log is never rewritten.

use std::io;
use std::path::Path;

use chrono::{DateTime, Utc};
use spor_domain::wire::format_time;
use spor_projections::publish::{Publication, PublishedTables, Submission};
use spor_store::publications;

/// Why a publication is not made.
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error(transparent)]
    Differs(#[from] Box<Differs>),
    #[error(transparent)]
    DiffersFromSubmission(#[from] Box<DiffersFromSubmission>),
    /// The list of publications cannot be read or written.
    #[error("the record of publications: {0}")]
    Io(#[from] io::Error),
}

/// The year was published before with other figures.
#[derive(Debug, thiserror::Error)]
#[error(
    "{year} ble publisert {made} med tallene slik loggen sto {known}. {differences} tall er endret siden; \
     å publisere dem på nytt kan avsløre enkeltpersoner når de to versjonene sammenlignes. \
     Den publiserte versjonen får du ved å be om tallene slik loggen sto {known_at} \
     (--known-at {known_at}; i API-et known_at={known_at}).",
    year = .recorded.year,
    made = norwegian_time(.recorded.made_at),
    known = norwegian_time(.recorded.known_at),
    known_at = format_time(.recorded.known_at),
)]
pub struct Differs {
    pub recorded: Publication,
    /// How many figures differ.
    pub differences: usize,
}

/// A unit submitted the year with figures a publication would now show
/// otherwise.
#[derive(Debug, thiserror::Error)]
#[error(
    "Enhet {unit} leverte {year} {submitted} med tallene slik loggen sto {known}. {differences} av tallene \
     som nå ville bli publisert for enheten, er endret siden; å publisere dem kan avsløre enkeltpersoner \
     når de sammenlignes med det som ble levert. Tallene slik de ble levert får du ved å be om tallene \
     slik loggen sto {known_at} (--known-at {known_at}; i API-et known_at={known_at}).",
    unit = .submission.unit,
    year = .submission.year,
    submitted = norwegian_time(.submission.submitted_at),
    known = norwegian_time(.submission.known_at),
    known_at = format_time(.submission.known_at),
)]
pub struct DiffersFromSubmission {
    pub submission: Submission,
    /// How many of the unit's published figures differ.
    pub differences: usize,
}

impl PublishError {
    /// The publication is refused (not a failure to read the records).
    pub fn is_refusal(&self) -> bool {
        !matches!(self, PublishError::Io(_))
    }
}

fn norwegian_time(t: DateTime<Utc>) -> String {
    t.format("%d.%m.%Y kl. %H:%M UTC").to_string()
}

/// Checks tables about to be published against every recorded publication
/// of their year in the data directory `dir`.
pub fn check(dir: &Path, year: i32, tables: &PublishedTables) -> Result<(), PublishError> {
    let figures = tables.figures();
    for recorded in publications::read::<Publication>(dir)?
        .into_iter()
        .filter(|p| p.year == year)
    {
        let differences = recorded.differences(&figures);
        if differences > 0 {
            return Err(Box::new(Differs {
                recorded,
                differences,
            })
            .into());
        }
    }
    for submission in publications::read_submissions::<Submission>(dir)?
        .into_iter()
        .filter(|s| s.year == year)
    {
        let differences = submission.differences_in(&figures);
        if differences > 0 {
            return Err(Box::new(DiffersFromSubmission {
                submission,
                differences,
            })
            .into());
        }
    }
    Ok(())
}

/// What became of a submission.
#[derive(Debug, PartialEq, Eq)]
pub enum Submitted {
    /// Recorded.
    New,
    /// The same figures were submitted before, then: nothing new recorded.
    Unchanged(DateTime<Utc>),
}

/// The unit's last submission of the year, if any.
pub fn last_submission(
    dir: &Path,
    year: i32,
    unit: &str,
) -> Result<Option<Submission>, PublishError> {
    Ok(publications::read_submissions::<Submission>(dir)?
        .into_iter()
        .rev()
        .find(|s| s.year == year && s.unit == unit))
}

/// Every submission of the year, the last of each unit, in unit order.
pub fn submissions(dir: &Path, year: i32) -> Result<Vec<Submission>, PublishError> {
    let mut last: std::collections::BTreeMap<String, Submission> =
        std::collections::BTreeMap::new();
    for s in publications::read_submissions::<Submission>(dir)?
        .into_iter()
        .filter(|s| s.year == year)
    {
        last.insert(s.unit.clone(), s);
    }
    Ok(last.into_values().collect())
}

/// Records a unit's submission in `dir`, unless its last submission of the
/// year has the same figures. A submission with other figures than the
/// last is a correction and is recorded beside it (the caller asks first).
pub fn submit(dir: &Path, submission: &Submission) -> Result<Submitted, PublishError> {
    if let Some(last) = last_submission(dir, submission.year, &submission.unit)?
        && last.figures == submission.figures
    {
        return Ok(Submitted::Unchanged(last.submitted_at));
    }
    publications::add_submission(dir, submission)?;
    Ok(Submitted::New)
}

/// Records a publication in `dir`, after [`check`]ing it: once per set of
/// figures, so making the same report again records nothing new.
pub fn record(dir: &Path, publication: &Publication) -> Result<(), PublishError> {
    let earlier = publications::read::<Publication>(dir)?;
    let same =
        |p: &Publication| p.year == publication.year && p.differences(&publication.figures) == 0;
    if !earlier.iter().any(same) {
        publications::add(dir, publication)?;
    }
    Ok(())
}
