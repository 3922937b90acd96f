//! The training progress bar: drawn with `indicatif` when asked for, the `progress` feature is
//! on and standard output is a terminal; otherwise every call does nothing.

use super::Metrics;

/// A progress bar over all the steps of a training run, or nothing.
pub(super) struct Bar {
    #[cfg(feature = "progress")]
    bar: Option<indicatif::ProgressBar>,
}

impl Bar {
    /// A bar for `steps` steps if `wanted` and it can be drawn.
    pub(super) fn new(wanted: bool, steps: usize) -> Self {
        #[cfg(feature = "progress")]
        {
            use std::io::IsTerminal;
            let bar = (wanted && std::io::stdout().is_terminal()).then(|| {
                let style = indicatif::ProgressStyle::with_template(
                    "{bar:30} {pos}/{len} steps, {msg} [{elapsed_precise}, {eta} left]",
                )
                .expect("the template is valid");
                indicatif::ProgressBar::with_draw_target(
                    Some(steps as u64),
                    indicatif::ProgressDrawTarget::stdout(),
                )
                .with_style(style)
            });
            Bar { bar }
        }
        #[cfg(not(feature = "progress"))]
        {
            let _ = (wanted, steps);
            Bar {}
        }
    }

    /// One step done.
    #[inline]
    pub(super) fn step(&self) {
        #[cfg(feature = "progress")]
        if let Some(bar) = &self.bar {
            bar.inc(1);
        }
    }

    /// An epoch done: shows its number and losses.
    pub(super) fn epoch(&self, epoch: usize, epochs: usize, loss: f64, val: Option<Metrics>) {
        #[cfg(feature = "progress")]
        if let Some(bar) = &self.bar {
            let mut msg = format!("epoch {}/{epochs}, loss {loss:.4}", epoch + 1);
            if let Some(v) = val {
                msg += &format!(", validation loss {:.4}", v.loss);
            }
            bar.set_message(msg);
        }
        #[cfg(not(feature = "progress"))]
        let _ = (epoch, epochs, loss, val);
    }

    /// Runs `f` (the user's callback, which may print) with the bar cleared off the screen.
    pub(super) fn suspend<R>(&self, f: impl FnOnce() -> R) -> R {
        #[cfg(feature = "progress")]
        if let Some(bar) = &self.bar {
            return bar.suspend(f);
        }
        f()
    }
}

impl Drop for Bar {
    /// Training is over (or failed): the bar is removed from the screen.
    fn drop(&mut self) {
        #[cfg(feature = "progress")]
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
