//! `tracewright conform --sut rust,python,js,go,java [--cases N] [--seed S]`
//! `tracewright conform --corpus DIR --sut rust,python,js,go,java`
//! `tracewright conform --sut temporal [--cases N] [--seed S] [--config specs/workflow/Workflow.cfg]`
//!
//! With `--sut temporal` it walks the workflow model instead, on a real
//! Temporal server ([`crate::conformance::workflow::conform`]).
//!
//! Walks the trace-context model at random, runs each walk on every SDK, and
//! prints case × SDK → verdict. Every divergence is shrunk to a minimal walk
//! and written to the traces directory. With `--corpus`, runs the concrete
//! carriers of a corpus directory instead (see
//! [`crate::conformance::corpus`]) and prints the disagreement table; no
//! trace is written. Divergences listed in the expectations file are accepted
//! and understood; any other fails the run.

use std::path::{Path, PathBuf};

use clap::Args;

use super::replay::project_root;
use crate::conformance::corpus::{self, Layer};
use crate::conformance::walks::{self, Subject};
use crate::conformance::Verdict;
use crate::engine;
use crate::error::{Diagnostic, Error, ExitCode, Location, Result};
use crate::expectations::Expectations;
use crate::model::{SpecModel, Violation};
use crate::models::trace_context::TraceContext;
use crate::spec;
use crate::sut::sdk::{self, SdkKind, Transport};

#[derive(Debug, Args)]
pub struct ConformArgs {
    /// The SDKs to run, comma-separated: rust, python, js, go, java.
    #[arg(long, value_delimiter = ',', default_value = "rust,python,js,go,java", env = "TRACEWRIGHT_CONFORM_SUT")]
    pub sut: Vec<String>,
    /// How many random walks.
    #[arg(long, default_value_t = 100, env = "TRACEWRIGHT_CONFORM_CASES")]
    pub cases: usize,
    /// The seed of the walks; the same seed gives the same walks.
    #[arg(long, default_value_t = 0, env = "TRACEWRIGHT_CONFORM_SEED")]
    pub seed: u64,
    /// The longest walk, in choices.
    #[arg(long, default_value_t = 40, env = "TRACEWRIGHT_CONFORM_MAX_STEPS")]
    pub max_steps: usize,
    /// The model config to walk.
    #[arg(long, default_value = "specs/trace_context/conform/TraceContext_conform.cfg", env = "TRACEWRIGHT_CONFORM_CONFIG")]
    pub config: PathBuf,
    /// The accepted, understood divergences.
    #[arg(long, default_value = "conformance/expectations.json", env = "TRACEWRIGHT_CONFORM_EXPECTATIONS")]
    pub expectations: PathBuf,
    /// Where minimal divergent walks are written.
    #[arg(long, default_value = "traces/conform", env = "TRACEWRIGHT_CONFORM_OUT")]
    pub out: PathBuf,
    /// Output format on stdout.
    #[arg(long, value_enum, default_value = "human", env = "TRACEWRIGHT_CONFORM_FORMAT")]
    pub format: super::check::Format,
    /// Run the incoming carriers of this directory (one `*.json` file per
    /// case: `{"traceparent": ["…"], "tracestate": ["…", "…"]}`) instead of
    /// random walks; the walk options are then unused.
    #[arg(long, value_name = "DIR", env = "TRACEWRIGHT_CONFORM_CORPUS")]
    pub corpus: Option<PathBuf>,
    /// How carriers reach each SDK: `http`, through its real instrumented
    /// HTTP server and client (a `--sut` of the form `python:wsgi` picks a
    /// stack), or `api`, through its propagator API. Default: http where the
    /// SDK's driver has it. Over http every divergence also says whether the
    /// API shows it (in the propagator) or not (in the HTTP stack).
    #[arg(long, value_parser = ["api", "http"], env = "TRACEWRIGHT_CONFORM_TRANSPORT")]
    pub transport: Option<String>,
}

fn transport(args: &ConformArgs) -> Result<Option<Transport>> {
    args.transport.as_deref().map(str::parse).transpose()
}

/// The SDK a `--sut` name stands for, in expectations: `python:wsgi` is `python`.
fn base(sut: &str) -> &str {
    sut.split(':').next().unwrap_or(sut)
}

/// `go 1.47.0 (http: net/http)`: an SDK as the reports name it.
fn shown(o: &sdk::http::Opened) -> String {
    match (&o.transport, &o.stack) {
        (Transport::Http, Some(stack)) => format!("{} (http: {stack})", o.version),
        _ => format!("{} ({})", o.version, o.transport),
    }
}

fn in_project(path: &Path) -> PathBuf {
    if path.is_relative() && !path.exists() { project_root().join(path) } else { path.to_path_buf() }
}

pub fn run(args: ConformArgs) -> Result<ExitCode> {
    if let Some(dir) = &args.corpus {
        return run_corpus(&args, dir);
    }
    if args.cases == 0 {
        return Err(Error::usage("--cases must be at least 1", None));
    }
    if args.sut.iter().any(|s| s == "temporal") {
        return run_workflow(&args);
    }
    for s in &args.sut {
        base(s).parse::<SdkKind>()?;
    }
    let transport = transport(&args)?;
    let files = spec::config_of(&in_project(&args.config))?;
    let loaded = spec::load(&files)?;
    if loaded.module.name != TraceContext::MODULE {
        return Err(Error::Spec(
            Diagnostic::new(Location::file(&files.cfg), format!("conform walks the TraceContext model; this config is for {}", loaded.module.name))
                .hint("give a TraceContext config with --config"),
        ));
    }
    let model = TraceContext::from_constants(&loaded.constants)?;
    let expectations = Expectations::load(&in_project(&args.expectations))?;
    let root = project_root();
    let mut subjects = Vec::new();
    let mut versions = Vec::new();
    for name in &args.sut {
        let opened = sdk::http::open_named(name, &root, transport)?;
        versions.push((opened.name.clone(), shown(&opened)));
        subjects.push(Subject { name: opened.name, sdk: opened.sdk });
    }
    let expected = |sut: &str, class: &str, layer: Layer| expectations.expected_in(base(sut), class, layer.name()).is_some();
    let outcome = walks::run(&model, &mut subjects, args.cases, args.seed, args.max_steps, &expected)?;
    for s in &mut subjects {
        let _ = s.sdk.shutdown();
    }
    let mut written = Vec::new();
    for f in &outcome.findings {
        let Verdict::Diverged(d) = &f.report.verdict else { continue };
        let violation = Violation::new(format!("{} {d}", f.sut))
            .with("sut", f.sut.clone())
            .with("class", f.class.clone())
            .with("expected", d.expected.clone())
            .with("observed", d.observed.clone());
        let mut doc = engine::trace_doc(&model, &loaded, &format!("Conformance-{}", f.sut), "divergence", &violation, None, &f.path);
        doc.header_variant = Some(u64::from(f.minimal.variant));
        written.push(doc.write_into(&args.out)?);
    }
    let new: Vec<_> = outcome.findings.iter().filter(|f| !f.expected).collect();
    let exit = if new.is_empty() { ExitCode::Ok } else { ExitCode::Unexpected };
    match args.format {
        super::check::Format::Json => {
            let doc = serde_json::json!({
                "tool": engine::TOOL,
                "exit_code": exit.code(),
                "seed": args.seed,
                "cases": outcome.cases.iter().map(|c| serde_json::json!({
                    "case": c.index,
                    "steps": c.steps,
                    "verdicts": c.verdicts.iter().map(|(s, v)| (s.clone(), serde_json::to_value(v).unwrap_or_default())).collect::<serde_json::Map<_, _>>(),
                })).collect::<Vec<_>>(),
                "divergences": outcome.findings.iter().zip(&written).map(|(f, w)| serde_json::json!({
                    "sut": f.sut,
                    "class": f.class,
                    "expected": f.expected,
                    "cases": f.cases,
                    "layer": f.layer,
                    "rule": expectations.expected_in(base(&f.sut), &f.class, f.layer.name()).map(|e| e.rule.clone()),
                    "trace": w.path().display().to_string(),
                })).collect::<Vec<_>>(),
            });
            println!("{}", serde_json::to_string_pretty(&doc).unwrap_or_default());
        }
        super::check::Format::Junit => print!("{}", walks::render_junit(&outcome, &versions, &written, &expected)),
        super::check::Format::Human => print!("{}", render(&args, &versions, &outcome, &written, &expectations)),
    }
    Ok(exit)
}

/// `--sut temporal`: walks of the workflow model on a real Temporal server.
/// Exit 0 when every walk conforms or reproduces a violation the model path
/// has too, 1 when one diverged (its minimal walk is written), 2 on bad input.
fn run_workflow(args: &ConformArgs) -> Result<ExitCode> {
    use crate::conformance::workflow;
    use crate::models::workflow::Workflow;
    if args.sut.len() != 1 {
        return Err(Error::usage("--sut temporal runs alone: the SDKs walk another model", Some("run `conform --sut temporal` by itself")));
    }
    let config = if args.config == Path::new("specs/trace_context/conform/TraceContext_conform.cfg") {
        PathBuf::from("specs/workflow/Workflow.cfg")
    } else {
        args.config.clone()
    };
    let files = spec::config_of(&in_project(&config))?;
    let loaded = spec::load(&files)?;
    if loaded.module.name != Workflow::MODULE {
        return Err(Error::Spec(
            Diagnostic::new(Location::file(&files.cfg), format!("conform --sut temporal walks the Workflow model; this config is for {}", loaded.module.name))
                .hint("give a Workflow config with --config"),
        ));
    }
    let model = Workflow::from_constants(&loaded.constants)?;
    let root = project_root();
    let server = crate::sut::workflow::TemporalServer::start(&root)?;
    let cases = workflow::conform(&server, &root, &model, args.cases, args.seed, args.max_steps)?;
    println!(
        "conform: {} random walks of {} (seed {}, at most {} steps) on {}",
        args.cases,
        files.cfg.display(),
        args.seed,
        args.max_steps,
        server.version
    );
    println!("{:>5} {:>5}  verdict", "case", "steps");
    let mut diverged = 0;
    for c in &cases {
        let cell = match &c.verdict {
            Verdict::Diverged(d) => format!("diverged at step {}: expected {}, observed {}", d.step, d.expected, d.observed),
            Verdict::Reproduced { property, .. } => format!("reproduced {property} (as the model path does)"),
            Verdict::Conforms => "conforms".into(),
        };
        println!("{:>5} {:>5}  {cell}", c.index, c.steps);
        if let Some((path, Verdict::Diverged(d))) = &c.minimal {
            diverged += 1;
            let violation = Violation::new(format!("temporal {d}"))
                .with("sut", "temporal")
                .with("expected", d.expected.clone())
                .with("observed", d.observed.clone());
            let doc = engine::trace_doc(&model, &loaded, "Conformance-temporal", "divergence", &violation, None, path);
            let written = doc.write_into(&in_project(&args.out))?;
            println!("      minimal walk ({} steps): {}", path.len() - 1, written.path().display());
        }
    }
    println!("{} of {} walks diverged", diverged, cases.len());
    Ok(if diverged == 0 { ExitCode::Ok } else { ExitCode::Unexpected })
}

/// `--corpus DIR`: everything is read and checked before any SDK starts, so
/// bad input exits 2 with nothing run.
fn run_corpus(args: &ConformArgs, dir: &Path) -> Result<ExitCode> {
    for s in &args.sut {
        base(s).parse::<SdkKind>()?;
    }
    let transport = transport(args)?;
    let dir = in_project(dir);
    let cases = corpus::load(&dir)?;
    let expectations = Expectations::load(&in_project(&args.expectations))?;
    let root = project_root();
    let mut subjects = Vec::new();
    for name in &args.sut {
        let opened = sdk::http::open_named(name, &root, transport)?;
        subjects.push(corpus::Subject { name: opened.name.clone(), version: shown(&opened), sdk: opened.sdk });
    }
    let expected = |sut: &str, class: &str, layer: Layer| expectations.expected_in(base(sut), class, layer.name()).is_some();
    let outcome = corpus::run(&cases, &mut subjects, &expected);
    for s in &mut subjects {
        let _ = s.sdk.shutdown();
    }
    let outcome = outcome?;
    let versions: Vec<(String, String)> = subjects.iter().map(|s| (s.name.clone(), s.version.clone())).collect();
    let exit = if outcome.new_count() == 0 { ExitCode::Ok } else { ExitCode::Unexpected };
    let shown = args.corpus.as_deref().unwrap_or(&dir);
    match args.format {
        super::check::Format::Human => print!("{}", corpus::render_human(shown, &versions, &outcome)),
        super::check::Format::Json => {
            let doc = corpus::render_json(shown, &versions, &outcome, exit.code());
            println!("{}", serde_json::to_string_pretty(&doc).unwrap_or_default());
        }
        super::check::Format::Junit => print!("{}", corpus::render_junit(&outcome, &versions)),
    }
    Ok(exit)
}

fn render(
    args: &ConformArgs,
    versions: &[(String, String)],
    outcome: &walks::Outcome,
    written: &[crate::trace::Written],
    expectations: &Expectations,
) -> String {
    let mut out = format!("conform: {} random walks (seed {}, at most {} steps) on ", args.cases, args.seed, args.max_steps);
    out.push_str(&versions.iter().map(|(s, v)| format!("{s} {v}")).collect::<Vec<_>>().join(", "));
    out.push_str("\n\n");
    out.push_str(&format!("{:>5} {:>5}", "case", "steps"));
    for (s, _) in versions {
        out.push_str(&format!("  {s:<22}"));
    }
    out.push('\n');
    for c in &outcome.cases {
        out.push_str(&format!("{:>5} {:>5}", c.index, c.steps));
        for (_, v) in &c.verdicts {
            let cell = match v {
                Verdict::Diverged(d) => format!("diverged@{}", d.step),
                other => other.word().to_string(),
            };
            out.push_str(&format!("  {cell:<22}"));
        }
        out.push('\n');
    }
    out.push('\n');
    if outcome.findings.is_empty() {
        out.push_str("no divergences: every walk conformed on every SDK\n");
    }
    for (f, w) in outcome.findings.iter().zip(written) {
        let status = match expectations.expected_in(base(&f.sut), &f.class, f.layer.name()) {
            Some(e) => format!("expected ({})", e.rule),
            None => "NEW".to_string(),
        };
        out.push_str(&format!("{} {} in {}: {} case(s), {status}\n", f.sut, f.class, f.layer.place(), f.cases));
        if let Verdict::Diverged(d) = &f.report.verdict {
            out.push_str(&format!("  minimal walk: {d}\n"));
        }
        out.push_str(&format!("  trace: {}\n", w.path().display()));
    }
    let new = outcome.findings.iter().filter(|f| !f.expected).count();
    out.push_str(&format!(
        "\nverdict: {}\n",
        if new == 0 { "ok — no divergence outside the expectations".to_string() } else { format!("{new} new divergence(s): add them to the expectations with their W3C rule, or fix the SDK") }
    ));
    out
}
