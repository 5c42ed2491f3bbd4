//! The Temporal server under test: the dev server's start-up time, and
//! sagas per second through the real server and the Python SDK's worker
//! driver (each saga a full path of the correct workflow model, judged step
//! by step, as `replay --sut temporal` does).
//!
//!     bash ci/install-temporal.sh && cargo bench --bench temporal
//!     BENCH_STARTS=5 BENCH_SAGAS=20 cargo bench --bench temporal
//!
//! Without `--bench` (as `cargo test --all-targets` runs it) it is a smoke
//! run: one server start and one saga. Nothing is asserted but that each
//! saga conforms.

use std::path::Path;
use std::time::{Duration, Instant};

use tracewright::conformance::workflow::{self, Options};
use tracewright::conformance::Verdict;
use tracewright::model::SpecModel;
use tracewright::models::workflow::Workflow;
use tracewright::sut::workflow::TemporalServer;

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let env = |name: &str, default: usize| std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default);
    let (starts, sagas) = if full { (env("BENCH_STARTS", 3), env("BENCH_SAGAS", 10)) } else { (1, 1) };
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let files = tracewright::spec::config_of(&root.join("specs/workflow/Workflow.cfg")).unwrap();
    let model = Workflow::from_constants(&tracewright::spec::load(&files).unwrap().constants).unwrap();
    let mut labels = vec!["StartWorkflow".to_string(), "ProcessWT".to_string()];
    for a in 1..=model.steps {
        labels.extend([format!("StartAttempt(a={a})"), format!("EndAttempt(a={a}, outcome=ok)"), "ProcessWT".into()]);
    }
    labels.extend(["Flush(p=client)", "Flush(p=act)", "Flush(p=wf)"].map(String::from));
    let refs: Vec<&str> = labels.iter().map(String::as_str).collect();
    let path = workflow::path_from_labels(&model, &refs).unwrap();

    let mut startup = Vec::new();
    for _ in 1..starts {
        let s = TemporalServer::start(root).unwrap_or_else(|e| panic!("{}", e.render()));
        startup.push(s.startup);
    }
    let server = TemporalServer::start(root).unwrap_or_else(|e| panic!("{}", e.render()));
    startup.push(server.startup);
    println!("{}", server.version);
    println!(
        "server start-up (to the first namespace answer): median {:.2} s over {} start(s), min {:.2} s, max {:.2} s",
        median(startup.clone()).as_secs_f64(),
        startup.len(),
        startup.iter().min().unwrap().as_secs_f64(),
        startup.iter().max().unwrap().as_secs_f64()
    );
    let began = Instant::now();
    for _ in 0..sagas {
        let run = workflow::run_path(&server, root, &model, &path, None, &Options::default(), None).unwrap_or_else(|e| panic!("{}", e.render()));
        assert_eq!(run.report.verdict, Verdict::Conforms, "{:#?}", run.report);
    }
    let took = began.elapsed();
    println!(
        "sagas: {sagas} of {} steps each ({} activities), one after another, each with its own driver and workers: {:.2} sagas/s, {:.2} s per saga, {:.1} model steps/s",
        path.len() - 1,
        model.steps,
        sagas as f64 / took.as_secs_f64(),
        took.as_secs_f64() / sagas as f64,
        (sagas * (path.len() - 1)) as f64 / took.as_secs_f64()
    );
}
