//! `tracewright check <spec|path.tla|path.cfg> | --all`
//!
//! Every config is loaded and matched to its model before anything runs, so
//! bad input anywhere stops the command with exit code 2 before a single
//! trace is written.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use clap::{Args, ValueEnum};

use super::progress::{Progress, ProgressMode};
use crate::checker::{Options, Stats};
use crate::engine::{prepare_with, EngineChoice, RunReport};
use crate::error::{Error, ExitCode, Result};
use crate::report;
use crate::spec;

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// A table per config, for people.
    Human,
    /// One JSON document on stdout.
    Json,
    /// JUnit XML on stdout: a suite per config, a case per property.
    Junit,
}

#[derive(Debug, Args)]
#[command(after_help = "Exit codes: 0 every property came out as its config expects; 1 otherwise; \
                  2 bad input or setup; 3 incomplete: --max-states, --max-depth, --timeout, the memory \
                  budget (--max-memory) or Ctrl-C stopped exploration, and the partial summary is printed.")]
pub struct CheckArgs {
    /// A spec name (`trace-context`), a module name, a `.tla` file (checked
    /// with its same-named `.cfg`) or a `.cfg` file.
    #[arg(required_unless_present = "all", conflicts_with = "all")]
    pub target: Option<String>,
    /// Check every config of every spec under the specs directory.
    #[arg(long, env = "TRACEWRIGHT_CHECK_ALL", value_parser = clap::builder::BoolishValueParser::new())]
    pub all: bool,
    /// Worker threads; all cores by default.
    #[arg(long, env = "TRACEWRIGHT_THREADS")]
    pub threads: Option<usize>,
    /// Output format on stdout.
    #[arg(long, value_enum, default_value = "human", env = "TRACEWRIGHT_CHECK_FORMAT")]
    pub format: Format,
    /// Where counterexample traces are written.
    #[arg(long, default_value = "traces", env = "TRACEWRIGHT_CHECK_OUT")]
    pub out: PathBuf,
    /// Stop after this many distinct states (exit code 3).
    #[arg(long, env = "TRACEWRIGHT_CHECK_MAX_STATES")]
    pub max_states: Option<u64>,
    /// Explore no deeper than this many states along a path (exit code 3).
    #[arg(long, env = "TRACEWRIGHT_CHECK_MAX_DEPTH")]
    pub max_depth: Option<u32>,
    /// Stop after this many seconds per config (exit code 3).
    #[arg(long, env = "TRACEWRIGHT_CHECK_TIMEOUT")]
    pub timeout: Option<u64>,
    /// Stop when the process holds more resident memory than this (exit
    /// code 3, with the partial summary): bytes, or a number with K, M, G or
    /// T (e.g. 512M, 4G). By default what the process holds at the start
    /// plus 90% of MemAvailable in /proc/meminfo.
    #[arg(long, env = "TRACEWRIGHT_CHECK_MAX_MEMORY", value_parser = crate::checker::memory::parse_size)]
    pub max_memory: Option<u64>,
    /// The directory named specs are looked up in.
    #[arg(long, env = spec::SPECS_ENV)]
    pub specs: Option<PathBuf>,
    /// Which engine explores the spec: the Rust model where one exists
    /// (auto), or the TLA+ interpreter (tla).
    #[arg(long, value_enum, default_value = "auto", env = "TRACEWRIGHT_CHECK_ENGINE")]
    pub engine: EngineChoice,
    /// The config to check the spec with, when its name differs from the
    /// module's (as TLC's -config).
    #[arg(long, env = "TRACEWRIGHT_CHECK_CONFIG", conflicts_with = "all")]
    pub config: Option<PathBuf>,
    /// A directory holding modules the spec extends (repeatable).
    #[arg(long = "lib", env = "TRACEWRIGHT_CHECK_LIB", value_delimiter = ',')]
    pub libs: Vec<PathBuf>,
    /// The progress line on stderr.
    #[arg(long, value_enum, default_value = "auto", env = "TRACEWRIGHT_PROGRESS")]
    pub progress: ProgressMode,
}

/// The flag Ctrl-C sets; installed once per process.
fn interrupt_flag() -> Arc<AtomicBool> {
    static FLAG: OnceLock<Arc<AtomicBool>> = OnceLock::new();
    FLAG.get_or_init(|| {
        let flag = Arc::new(AtomicBool::new(false));
        let setter = flag.clone();
        // Without a handler Ctrl-C ends the process with no summary; a failure
        // to install one is not worth refusing to check.
        let _ = ctrlc::set_handler(move || setter.store(true, Ordering::Relaxed));
        flag
    })
    .clone()
}

pub fn run(args: CheckArgs) -> Result<ExitCode> {
    if args.threads == Some(0) {
        return Err(Error::usage("--threads must be at least 1", None));
    }
    let root = args.specs.clone().unwrap_or_else(spec::specs_root);
    let targets = if args.all {
        spec::all_configs(&root)?
    } else if let Some(cfg) = &args.config {
        let target = args.target.as_deref().unwrap_or_default();
        let tla = if target.ends_with(".tla") { PathBuf::from(target) } else { spec::resolve(target, &root)?.tla };
        if !tla.is_file() {
            return Err(Error::usage(format!("no such spec file {}", tla.display()), Some("give the .tla path")));
        }
        if !cfg.is_file() {
            return Err(Error::usage(format!("no such config file {}", cfg.display()), None));
        }
        vec![spec::SpecFiles { tla, cfg: cfg.clone() }]
    } else {
        vec![spec::resolve(args.target.as_deref().unwrap_or_default(), &root)?]
    };
    let prepared = targets.iter().map(|t| prepare_with(t, args.engine, &args.libs)).collect::<Result<Vec<_>>>()?;
    let stop = interrupt_flag();
    let mut runs: Vec<RunReport> = Vec::new();
    let mut exit = ExitCode::Ok;
    for run in &prepared {
        if stop.load(Ordering::Relaxed) {
            break;
        }
        let stats = Arc::new(Stats::default());
        let options = Options {
            threads: args.threads.unwrap_or(Options::default().threads),
            max_states: args.max_states,
            max_depth: args.max_depth,
            timeout: args.timeout.map(Duration::from_secs),
            max_memory: args.max_memory.or_else(crate::checker::memory::default_budget),
            record_graph: true,
            stop: stop.clone(),
            stats: stats.clone(),
        };
        let label = format!("{}.{}", run.files().module_stem(), run.files().config_label());
        let progress = Progress::start(args.progress, label, stats);
        let result = run.run(options, Some(&args.out));
        progress.finish();
        let report = result?;
        exit = exit.combine(report.exit_code());
        if args.format == Format::Human {
            print!("{}", report::human(&report));
            if prepared.len() > 1 {
                println!();
            }
        }
        runs.push(report);
    }
    if runs.len() < prepared.len() {
        // Interrupted between configs: the rest did not run.
        exit = exit.combine(ExitCode::Incomplete);
    }
    match args.format {
        Format::Human if prepared.len() > 1 => print!("{}", report::human_summary(&runs)),
        Format::Human => {}
        Format::Json => print!("{}", report::json(&runs, exit)),
        Format::Junit => print!("{}", report::junit(&runs)),
    }
    Ok(exit)
}
