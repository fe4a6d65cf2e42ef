//! A load's progress on stderr: a bar on a terminal, else a plain line every tenth of the load
//! or every few seconds, and a last line with what was read.

use std::io::IsTerminal;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::service::Progress;
use crate::service::loading::{LineGate, LoadStatus};

pub struct LoadReport {
    pub progress: Progress,
    bar: Option<ProgressBar>,
}

impl LoadReport {
    pub fn start() -> LoadReport {
        // Request log lines on stderr would tear a bar apart: plain lines then.
        let bar = (std::io::stderr().is_terminal() && !crate::logging::on_stderr()).then(|| {
            let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
            bar.set_style(counting());
            bar.enable_steady_tick(Duration::from_millis(120));
            bar
        });
        let progress = match &bar {
            Some(bar) => {
                let (bar, styled) = (bar.clone(), Arc::new(Mutex::new(false)));
                Progress::new(move |s: &LoadStatus| {
                    if let (read, Some(total)) = s.rows() {
                        let mut styled = styled.lock().expect("bar style");
                        if !*styled {
                            bar.set_style(measured());
                            *styled = true;
                        }
                        bar.set_length(total as u64);
                        bar.set_position(read.min(total) as u64);
                    }
                    let mut msg = vec![s.counts()];
                    msg.extend(s.eta());
                    msg.extend(s.rate_text());
                    bar.set_message(msg.join(" · "));
                })
            }
            None => {
                let gate = Mutex::new(LineGate::default());
                Progress::new(move |s: &LoadStatus| {
                    if s.pages > 0 && gate.lock().expect("line gate").due(s) {
                        eprintln!("{}", s.line());
                    }
                })
            }
        };
        LoadReport { progress, bar }
    }

    /// Runs the load, telling the time left as it counts down between pages.
    pub async fn run<T>(&self, load: impl Future<Output = T>) -> T {
        let mut load = std::pin::pin!(load);
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        tick.tick().await;
        loop {
            tokio::select! {
                done = &mut load => return done,
                _ = tick.tick() => self.progress.tick(),
            }
        }
    }

    /// Clears the bar; after a load that succeeded, says what was read.
    pub fn finish(self, loaded: bool) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
        let status = self.progress.status();
        if loaded && status.pages > 0 {
            eprintln!("{}", status.finished());
        }
    }
}

fn counting() -> ProgressStyle {
    ProgressStyle::with_template("{spinner} loading: {wide_msg}").unwrap_or_else(|_| ProgressStyle::default_spinner())
}

fn measured() -> ProgressStyle {
    ProgressStyle::with_template("{spinner} loading [{bar:24}] {percent:>3} % · {wide_msg}")
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ")
}
