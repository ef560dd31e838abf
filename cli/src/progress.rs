//! Progress bars on stderr, hidden for short jobs and when stderr is not a terminal.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Inputs below this size finish too fast for a bar to help.
const MIN_ITEMS_FOR_BAR: usize = 256;

/// A bar over `total` items labelled `what`.
pub(crate) fn bar(total: usize, what: &str) -> ProgressBar {
    if total < MIN_ITEMS_FOR_BAR {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(total as u64), ProgressDrawTarget::stderr());
    let style =
        ProgressStyle::with_template("{msg:>12} [{bar:30}] {pos}/{len} ({per_sec}, eta {eta})")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> ");
    bar.set_style(style);
    bar.set_message(what.to_owned());
    bar
}

/// A bar over optimisation steps, with a message (loss, lr, speed) beside it.
pub(crate) fn steps_bar(total: u64) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
    let style = ProgressStyle::with_template("train [{bar:30}] {pos}/{len} {msg} (eta {eta})")
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ");
    bar.set_style(style);
    bar
}
