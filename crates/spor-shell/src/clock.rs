//! Where the shell takes the time from. The binary passes the system clock;
//! tests and `--demo` pass a fixed one, so a run replays exactly.

use chrono::{DateTime, NaiveDate, SubsecRound, Utc};

/// The time for `recorded_at` stamps and the day views are taken on.
pub trait Clock: Send + Sync {
    /// Now, to the millisecond (the interchange format keeps milliseconds).
    fn now(&self) -> DateTime<Utc>;

    /// Today's date for views (status, reminders).
    fn today(&self) -> NaiveDate {
        self.now().date_naive()
    }
}

/// The system clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now().trunc_subsecs(3)
    }
}

/// A clock that always says the same time.
#[derive(Debug, Clone, Copy)]
pub struct FixedClock(pub DateTime<Utc>);

impl Clock for FixedClock {
    fn now(&self) -> DateTime<Utc> {
        self.0
    }
}
