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
