//! Progress bars on a terminal for the shell's long steps (import, demo).
//! indicatif hides them when standard error is not a terminal someone
//! watches, so scripts and logs see nothing.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use spor_shell::{Phase, Progress};

/// One bar, reused for each phase.
pub struct Bar {
    bar: ProgressBar,
}

impl Bar {
    pub fn new() -> Self {
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
        if let Ok(style) = ProgressStyle::with_template("{msg} {wide_bar} {percent:>3}% {eta}") {
            bar.set_style(style);
        }
        Self { bar }
    }
}

impl Progress for Bar {
    fn begin(&self, phase: Phase, total: Option<u64>) {
        self.bar.reset();
        self.bar.set_length(total.unwrap_or(0));
        self.bar.set_message(match phase {
            Phase::Checking => "checking",
            Phase::Writing => "writing",
        });
    }

    fn advance(&self, _phase: Phase, done: u64) {
        self.bar.inc(done);
    }

    fn end(&self, _phase: Phase) {
        self.bar.finish_and_clear();
    }
}

/// A spinner with a message for a step whose length is not known (reading
/// the log, computing a publication), cleared when dropped. Hidden unless
/// standard error is a terminal, like [`Bar`].
pub struct Spinner {
    bar: Option<ProgressBar>,
}

impl Spinner {
    pub fn new(message: &'static str) -> Self {
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
        if let Ok(style) = ProgressStyle::with_template("{spinner} {msg} {elapsed}") {
            bar.set_style(style);
        }
        bar.set_message(message);
        bar.enable_steady_tick(std::time::Duration::from_millis(120));
        Self { bar: Some(bar) }
    }

    /// No spinner (a command a server runs for a client).
    pub fn none() -> Self {
        Self { bar: None }
    }

    /// Goes on to the next step.
    pub fn set(&self, message: &'static str) {
        if let Some(bar) = &self.bar {
            bar.set_message(message);
        }
    }
}

impl Drop for Spinner {
    fn drop(&mut self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
