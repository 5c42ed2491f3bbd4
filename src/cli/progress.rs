//! The progress line on stderr for runs longer than a second: a live line on
//! a terminal, a plain line every ten seconds elsewhere (CI logs).

use std::io::IsTerminal as _;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use clap::ValueEnum;

use crate::checker::Stats;

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ProgressMode {
    Auto,
    Always,
    Never,
}

pub struct Progress {
    done: Arc<AtomicBool>,
    handle: Option<JoinHandle<()>>,
}

fn line(label: &str, stats: &Stats, start: Instant) -> String {
    let distinct = stats.distinct.load(Ordering::Relaxed);
    let rate = distinct as f64 / start.elapsed().as_secs_f64().max(1e-9);
    format!(
        "{label}: {distinct} distinct, {} generated, depth {}, {:.0} states/s",
        stats.generated.load(Ordering::Relaxed),
        stats.depth.load(Ordering::Relaxed),
        rate
    )
}

impl Progress {
    pub fn start(mode: ProgressMode, label: String, stats: Arc<Stats>) -> Progress {
        let done = Arc::new(AtomicBool::new(false));
        if mode == ProgressMode::Never {
            return Progress { done, handle: None };
        }
        let terminal = std::io::stderr().is_terminal();
        let flag = done.clone();
        let handle = std::thread::spawn(move || {
            let start = Instant::now();
            let bar = terminal.then(|| {
                let bar = indicatif::ProgressBar::new_spinner();
                bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
                bar
            });
            let every = if mode == ProgressMode::Always { Duration::from_secs(1) } else { Duration::from_secs(10) };
            let mut last_plain = None::<Instant>;
            while !flag.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(100));
                if start.elapsed() < Duration::from_secs(1) {
                    continue;
                }
                match &bar {
                    Some(bar) => {
                        bar.set_message(line(&label, &stats, start));
                        bar.tick();
                    }
                    None if last_plain.is_none_or(|t| t.elapsed() >= every) => {
                        eprintln!("{}", line(&label, &stats, start));
                        last_plain = Some(Instant::now());
                    }
                    None => {}
                }
            }
            if let Some(bar) = bar {
                bar.finish_and_clear();
            }
        });
        Progress { done, handle: Some(handle) }
    }

    pub fn finish(mut self) {
        self.done.store(true, Ordering::Relaxed);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}
