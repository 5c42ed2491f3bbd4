//! tracewright's integration tests: one binary, one module per topic.

mod architecture;
mod b3;
mod checker;
mod cli;
mod corpus;
mod differential;
mod drivers;
mod fuzz_regressions;
mod http;
mod hostile;
mod pinned;
mod pipeline;
mod readme;
mod replay;
mod specs;
mod temporal;
mod tla;
mod traces;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Runs the tracewright binary from the repository root, without a progress line.
pub fn tracewright(args: &[&str]) -> Output {
    tracewright_in(&repo(), args)
}

pub fn tracewright_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tracewright"))
        .args(args)
        .current_dir(dir)
        .env("TRACEWRIGHT_PROGRESS", "never")
        .env_remove("TRACEWRIGHT_SPECS")
        .env_remove("TRACEWRIGHT_THREADS")
        .output()
        .expect("the tracewright binary runs")
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Every config under specs/, in the order `check --all` runs them.
pub fn all_configs() -> Vec<tracewright::spec::SpecFiles> {
    let configs = tracewright::spec::all_configs(&repo().join("specs")).expect("specs/ lists");
    assert!(configs.len() >= 15, "specs/ should hold every committed config, found {}", configs.len());
    configs
}

/// The committed trace of `<spec>.<config>.<property>`, whatever its hash.
pub fn committed_trace(prefix: &str) -> String {
    let mut found: Vec<String> = std::fs::read_dir(repo().join("traces"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(&format!("{prefix}.")) && n.ends_with(".itf.json"))
        .collect();
    assert_eq!(found.len(), 1, "one committed trace for {prefix}");
    format!("traces/{}", found.remove(0))
}

/// Opens an SDK for a test, or says why not: `None` means "skip" (outside
/// CI only: in CI a missing driver fails the test that needs it).
pub fn open_sdk(kind: tracewright::sut::sdk::SdkKind) -> Option<Box<dyn tracewright::sut::sdk::Sdk>> {
    use std::io::Write as _;
    if let Err(e) = tracewright::sut::sdk::installed(kind, &repo()) {
        if std::env::var_os("CI").is_some() {
            panic!("{}", e.render());
        }
        // Written past the test harness's capture, so the skip is seen.
        let _ = writeln!(std::io::stderr(), "skipping the {kind} SDK: {e} (run `bash ci/install-drivers.sh`)");
        return None;
    }
    match tracewright::sut::sdk::open(kind, &repo()) {
        Ok(sdk) => Some(sdk),
        Err(e) => panic!("{}", e.render()),
    }
}
