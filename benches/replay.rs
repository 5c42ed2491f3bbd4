//! Replay speed per system under test and transport: model steps replayed
//! per second, over the same random walks of the conformance model, on the
//! in-process Rust SDK and through each driver process, through the
//! propagator API and through each SDK's real instrumented HTTP stack.
//!
//!     bash ci/install-drivers.sh && cargo bench --bench replay
//!     BENCH_WALKS=400 BENCH_REPS=7 cargo bench --bench replay
//!
//! Medians of BENCH_REPS runs; nothing is asserted. Without `--bench` (under
//! `cargo test --all-targets`) it is a smoke run: two walks, once, on the
//! in-process Rust SDK only, over both transports.

use std::path::Path;
use std::time::{Duration, Instant};

use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use tracewright::conformance::{trace_context::replay, walks};
use tracewright::model::SpecModel;
use tracewright::models::trace_context::TraceContext;
use tracewright::sut::sdk::{self as sut, SdkKind, Transport};

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let full = std::env::args().any(|a| a == "--bench");
    let walks_n: usize = if full { std::env::var("BENCH_WALKS").ok().and_then(|v| v.parse().ok()).unwrap_or(200) } else { 2 };
    let reps: usize = if full { std::env::var("BENCH_REPS").ok().and_then(|v| v.parse().ok()).unwrap_or(5) } else { 1 };
    let files = tracewright::spec::config_of(&root.join("specs/trace_context/conform/TraceContext_conform.cfg")).unwrap();
    let model = TraceContext::from_constants(&tracewright::spec::load(&files).unwrap().constants).unwrap();
    let mut runner = TestRunner::new_with_rng(Config::default(), TestRng::from_seed(RngAlgorithm::ChaCha, &[7; 32]));
    let strategy = walks::strategy(40);
    let paths: Vec<_> = (0..walks_n)
        .map(|_| {
            let w = strategy.new_tree(&mut runner).unwrap().current();
            (walks::path_of(&model, &w), w.variant as usize)
        })
        .collect();
    let steps: usize = paths.iter().map(|(p, _)| p.len() - 1).sum();
    println!("{} walks, {} model steps per run, {} runs per system", walks_n, steps, reps);
    for kind in SdkKind::ALL {
        if !full && kind != SdkKind::Rust {
            println!("{:<7} skipped in the smoke run (no --bench)", kind.name());
            continue;
        }
        if let Err(e) = sut::installed(kind, root) {
            println!("{:<7} skipped: {e}", kind.name());
            continue;
        }
        for transport in Transport::ALL {
            let mut opened = match sut::http::open_named(kind.name(), root, Some(transport)) {
                Ok(o) => o,
                Err(e) => {
                    println!("{:<7} {:<5} skipped: {}", kind.name(), transport.name(), e.render().lines().next().unwrap_or_default());
                    continue;
                }
            };
            let sdk = opened.sdk.as_mut();
            let mut times: Vec<Duration> = Vec::new();
            let mut sut_steps = 0;
            for _ in 0..reps {
                let start = Instant::now();
                sut_steps = 0;
                for (path, variant) in &paths {
                    sdk.reset().unwrap();
                    let report = replay(&model, path, sdk, kind.name(), None, *variant).unwrap();
                    sut_steps += report.sut_steps;
                }
                times.push(start.elapsed());
            }
            let _ = sdk.shutdown();
            times.sort();
            let median = times[times.len() / 2].as_secs_f64();
            println!(
                "{:<7} {:<5} {:<10} median {:.3} s: {:>9.0} model steps/s, {:>9.0} SDK steps/s",
                kind.name(),
                transport.name(),
                opened.version,
                median,
                steps as f64 / median,
                sut_steps as f64 / median
            );
        }
    }
}
