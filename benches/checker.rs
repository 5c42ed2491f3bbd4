//! Exploration throughput, thread speed-up and memory per stored state.
//!
//!     cargo bench --bench checker                  # the bench config, 5 runs per thread count
//!     BENCH_CONFIG=path.cfg BENCH_REPS=9 cargo bench --bench checker
//!
//! `cargo test --all-targets` runs this file too, without `--bench` (which
//! `cargo bench` passes to harness = false benches): it then does a smoke
//! run of the small default config, once per thread count, in milliseconds.
//!
//! Runs alternate between one and two threads (so load on this shared machine
//! hits both alike) and the medians are reported, with their ratio. Nothing
//! here asserts a time: the numbers are for people.

use std::time::Duration;

use tracewright::checker::Options;
use tracewright::engine;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn median(mut xs: Vec<Duration>) -> Duration {
    xs.sort();
    xs[xs.len() / 2]
}

/// Peak resident memory of this process so far, from /proc (Linux).
fn peak_rss_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

fn main() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let full = std::env::args().any(|a| a == "--bench");
    let config = match std::env::var("BENCH_CONFIG") {
        Ok(path) if full => std::path::PathBuf::from(path),
        _ if full => root.join("specs/trace_context/bench/TraceContext_bench.cfg"),
        _ => root.join("specs/trace_context/TraceContext.cfg"),
    };
    let reps: usize = if full { std::env::var("BENCH_REPS").ok().and_then(|r| r.parse().ok()).unwrap_or(5) } else { 1 };
    if !full {
        println!("smoke run (no --bench): one run of {} per thread count; `cargo bench --bench checker` measures", config.display());
    }
    let files = tracewright::spec::config_of(&config).expect("the bench config exists");
    let prepared = engine::prepare(&files).expect("the bench config loads");
    let threads = [1usize, 2];
    let mut times: Vec<Vec<Duration>> = vec![Vec::new(); threads.len()];
    let mut last = None;
    for rep in 0..reps {
        for (i, &t) in threads.iter().enumerate() {
            let run = prepared.run(Options { threads: t, ..Options::default() }, None).expect("runs");
            eprintln!("rep {rep} threads {t}: {:.3} s, {} distinct", run.elapsed.as_secs_f64(), run.distinct);
            times[i].push(run.elapsed);
            last = Some(run);
        }
    }
    let run = last.expect("at least one run");
    let medians: Vec<Duration> = times.into_iter().map(median).collect();
    println!("config            {}", files.cfg.display());
    println!("distinct states   {}", run.distinct);
    println!("generated states  {}", run.generated);
    println!("properties        {} (safety and liveness)", run.properties.len());
    for (t, m) in threads.iter().zip(&medians) {
        println!(
            "threads {t}         median {:.3} s over {reps} runs, {:.0} distinct states/s",
            m.as_secs_f64(),
            run.distinct as f64 / m.as_secs_f64()
        );
    }
    println!("speed-up 1 -> 2   {:.2}x", medians[0].as_secs_f64() / medians[1].as_secs_f64());
    println!(
        "store             {:.1} bytes/state ({} bytes of fingerprint table)",
        run.store_bytes as f64 / run.distinct as f64,
        run.store_bytes
    );
    if let Some(mb) = peak_rss_mb() {
        println!("peak RSS          {mb:.0} MiB ({:.0} bytes/state)", mb * 1024.0 * 1024.0 / run.distinct as f64);
    }
}
