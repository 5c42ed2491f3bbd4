//! The TLA+ interpreter's throughput, with one and two threads, beside the
//! hand-written Rust model of the same spec, in one run:
//!
//!     cargo bench --bench tla              # full: every config explored completely, BENCH_RUNS runs each (default 3)
//!     cargo test --benches                 # smoke: 200 states per config, one run
//!
//! The configs are the largest corpus spec (tests/data/tla/Commit.tla, scaled
//! to six managers by benches/tla/Commit_bench.cfg) and the two project specs:
//! TraceContext under benches/tla/TraceContext_bounded.cfg (the bench config
//! specs/trace_context/bench/TraceContext_bench.cfg less two of its six
//! faults: the full one is millions of states, about an hour for TLC) and
//! Workflow under specs/workflow/Workflow.cfg (the bench config
//! Workflow_large.cfg has 833,025 states, more than an hour for TLC).
//! ci/tlc-bench.sh times TLC on the same list.
//!
//! Per engine and thread count it prints the median over the runs of the
//! distinct states per second of wall time and per second of CPU time (user +
//! system of the whole process during the run: on a machine shared with other
//! work the wall figure shows the load, the CPU figure the work done), and the
//! fingerprint store's bytes per stored state. Every run of a config must
//! find the same distinct, generated and depth counts, or the bench fails.
//! Nothing here asserts a time.

use std::path::Path;
use std::time::{Duration, Instant};

use tracewright::checker::Options;
use tracewright::engine::{self, EngineChoice, RunReport};
use tracewright::spec::SpecFiles;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Module, config, and whether a Rust model implements the module.
const CONFIGS: &[(&str, &str, bool)] = &[
    ("tests/data/tla/Commit.tla", "benches/tla/Commit_bench.cfg", false),
    ("specs/trace_context/TraceContext.tla", "benches/tla/TraceContext_bounded.cfg", true),
    ("specs/workflow/Workflow.tla", "specs/workflow/Workflow.cfg", true),
];

/// User + system CPU time of this process so far.
fn cpu_time() -> Duration {
    // SAFETY: getrusage writes into the struct it is given.
    let usage = unsafe {
        let mut u: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_SELF, &mut u);
        u
    };
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    tv(usage.ru_utime) + tv(usage.ru_stime)
}

/// Peak resident memory of this process so far, in bytes.
fn peak_rss() -> u64 {
    // SAFETY: as above.
    let usage = unsafe {
        let mut u: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_SELF, &mut u);
        u
    };
    usage.ru_maxrss as u64 * 1024
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(|a, b| a.total_cmp(b));
    let n = xs.len();
    if n % 2 == 1 {
        xs[n / 2]
    } else {
        (xs[n / 2 - 1] + xs[n / 2]) / 2.0
    }
}

struct Measured {
    report: RunReport,
    wall: f64,
    cpu: f64,
}

fn run_once(files: &SpecFiles, engine: EngineChoice, threads: usize, cap: Option<u64>) -> Measured {
    let prepared = engine::prepare_with(files, engine, &[]).unwrap_or_else(|e| panic!("{}: {e}", files.cfg.display()));
    let cpu0 = cpu_time();
    let started = Instant::now();
    let report = prepared
        .run(Options { threads, max_states: cap, ..Options::default() }, None)
        .unwrap_or_else(|e| panic!("{}: {e}", files.cfg.display()));
    let wall = started.elapsed().as_secs_f64();
    let cpu = (cpu_time() - cpu0).as_secs_f64();
    Measured { report, wall, cpu }
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let runs: usize = if full { std::env::var("BENCH_RUNS").ok().and_then(|s| s.parse().ok()).unwrap_or(3) } else { 1 };
    let cap = if full { None } else { Some(200) };
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    println!(
        "{:<26} {:<11} {:>7} {:>9} {:>9} {:>8}  {:>12} {:>12} {:>11}",
        "config", "engine", "threads", "distinct", "generated", "wall s", "distinct/s", "per CPU s", "store B/st"
    );
    for (tla, cfg, has_rust) in CONFIGS {
        let files = SpecFiles { tla: root.join(tla), cfg: root.join(cfg) };
        let name = files.cfg.file_name().unwrap_or_default().to_string_lossy().to_string();
        let mut engines = vec![(EngineChoice::Tla, "interpreter")];
        if *has_rust {
            engines.push((EngineChoice::Rust, "rust model"));
        }
        let mut counts = None;
        let mut rate = std::collections::HashMap::new();
        for (engine, label) in engines {
            for threads in [1, 2] {
                let mut walls = Vec::new();
                let mut cpus = Vec::new();
                let mut last = None;
                for _ in 0..runs {
                    let m = run_once(&files, engine, threads, cap);
                    let r = &m.report;
                    let got = (r.distinct, r.generated, r.depth);
                    match counts {
                        None => counts = Some(got),
                        Some(c) => assert_eq!(c, got, "{name}: {label} with {threads} threads explored a different state space"),
                    }
                    walls.push(r.distinct as f64 / m.wall);
                    cpus.push(r.distinct as f64 / m.cpu.max(1e-9));
                    last = Some(m);
                }
                let m = last.expect("at least one run");
                let (w, c) = (median(walls), median(cpus));
                rate.insert((label, threads), w);
                println!(
                    "{name:<26} {label:<11} {threads:>7} {:>9} {:>9} {:>8.2}  {w:>12.0} {c:>12.0} {:>11.1}",
                    m.report.distinct,
                    m.report.generated,
                    m.report.distinct as f64 / w,
                    m.report.store_bytes as f64 / m.report.distinct.max(1) as f64,
                );
            }
        }
        let i1 = rate[&("interpreter", 1)];
        let i2 = rate[&("interpreter", 2)];
        let mut line = format!("  {name}: interpreter 2/1 threads {:.2}x", i2 / i1);
        if let (Some(r1), Some(r2)) = (rate.get(&("rust model", 1)), rate.get(&("rust model", 2))) {
            line.push_str(&format!("; Rust model / interpreter: 1 thread {:.1}x, 2 threads {:.1}x", r1 / i1, r2 / i2));
        }
        println!("{line}");
    }
    println!("peak resident memory of the bench process: {:.0} MiB", peak_rss() as f64 / (1 << 20) as f64);
}
