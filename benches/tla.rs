//! The TLA+ interpreter's throughput against the hand-written Rust model, on
//! the project bench configs, with one and two threads.
//!
//!     cargo bench --bench tla            # full: up to BENCH_STATES distinct states per run (default 20,000)
//!     cargo test --benches               # smoke: 200 states per run
//!
//! Each run is cut at the same number of distinct states for both engines
//! (the interpreter would take minutes on the whole bench configs), so the
//! figures compare like with like. Nothing here asserts a time.

use std::time::Instant;

use tracewright::checker::Options;
use tracewright::engine::{self, EngineChoice};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let cap: u64 = if full { std::env::var("BENCH_STATES").ok().and_then(|s| s.parse().ok()).unwrap_or(20_000) } else { 200 };
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let configs = ["specs/trace_context/bench/TraceContext_bench.cfg", "specs/workflow/bench/Workflow_large.cfg"];
    println!("engine  threads  config                      distinct  seconds  distinct/s");
    for cfg in configs {
        let files = tracewright::spec::config_of(&root.join(cfg)).expect("bench config");
        let mut rates = Vec::new();
        for engine in [EngineChoice::Rust, EngineChoice::Tla] {
            for threads in [1, 2] {
                let prepared = engine::prepare_with(&files, engine, &[]).expect("loads");
                let started = Instant::now();
                let run = prepared.run(Options { threads, max_states: Some(cap), ..Options::default() }, None).expect("runs");
                let secs = started.elapsed().as_secs_f64();
                let rate = run.distinct as f64 / secs;
                rates.push(rate);
                println!(
                    "{:<7} {threads:>7}  {:<26} {:>9}  {secs:>7.2}  {rate:>10.0}",
                    format!("{engine:?}").to_lowercase(),
                    files.cfg.file_name().unwrap_or_default().to_string_lossy(),
                    run.distinct
                );
            }
        }
        println!(
            "  interpreter/Rust: 1 thread {:.3}, 2 threads {:.3}; interpreter 2/1 threads: {:.2}x",
            rates[2] / rates[0],
            rates[3] / rates[1],
            rates[3] / rates[2]
        );
    }
}
