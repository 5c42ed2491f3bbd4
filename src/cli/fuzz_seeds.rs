//! `tracewright fuzz-seeds`: every committed trace-context trace as a seed
//! for the `model_actions` fuzz target, in the encoding the target decodes
//! back into the trace's actions (`fuzzing::model_actions`).
//!
//! A seed is named after its trace (the file name without `.itf.json`) and
//! holds only the config label and the choices, so writing the seeds again
//! after `check` or `conform` adds traces gives the same bytes for the old
//! ones. Traces of other specs are skipped: the workflow model has no SDK to
//! run on (a Temporal worker is not a system under test yet).

use std::io::Write;
use std::path::PathBuf;

use clap::Args;

use crate::error::{Diagnostic, Error, ExitCode, Location, Result};
use crate::fuzzing::model_actions::{seed_of, Configs};
use crate::model::SpecModel;
use crate::spec;
use crate::trace::TraceDoc;

#[derive(Debug, Args)]
pub struct FuzzSeedsArgs {
    /// Directories of traces to convert.
    #[arg(long = "traces", default_values = ["traces", "traces/conform"], env = "TRACEWRIGHT_FUZZ_SEEDS_TRACES", value_delimiter = ',')]
    pub traces: Vec<PathBuf>,
    /// Where the seeds go.
    #[arg(long, default_value = "fuzz/seeds/model_actions", env = "TRACEWRIGHT_FUZZ_SEEDS_OUT")]
    pub out: PathBuf,
}

/// The seed each trace-context trace under `dirs` makes, by file name, in
/// name order; a directory that does not exist holds none. A trace whose actions the current model no longer takes is an
/// error: its seed would decode to another walk.
pub fn seeds(dirs: &[PathBuf]) -> Result<Vec<(String, Vec<u8>)>> {
    let configs = Configs::load(&spec::specs_root())?;
    let mut out = Vec::new();
    for dir in dirs {
        // `traces/conform/` exists only once `conform` has found something.
        if !dir.exists() {
            continue;
        }
        let entries = std::fs::read_dir(dir).map_err(|e| Error::io(dir, "list directory", e))?;
        let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
        paths.sort();
        for path in paths {
            let Some(name) = path.file_name().and_then(|n| n.to_str()).and_then(|n| n.strip_suffix(".itf.json")) else {
                continue;
            };
            let doc = TraceDoc::read(&path)?;
            if doc.spec != crate::models::trace_context::TraceContext::MODULE {
                continue;
            }
            let seed = seed_of(&configs, &doc).ok_or_else(|| {
                Error::Trace(
                    Diagnostic::new(Location::file(&path), format!("config `{}` does not take this trace's actions", doc.config_label))
                        .hint("the spec or config changed since the trace was written; run `tracewright check --all` to write it afresh"),
                )
            })?;
            out.push((name.to_string(), seed));
        }
    }
    Ok(out)
}

pub fn run(args: FuzzSeedsArgs) -> Result<ExitCode> {
    let seeds = seeds(&args.traces)?;
    std::fs::create_dir_all(&args.out).map_err(|e| Error::io(&args.out, "create seed directory", e))?;
    let mut written = 0;
    for (name, bytes) in &seeds {
        let path = args.out.join(name);
        if std::fs::read(&path).is_ok_and(|old| &old == bytes) {
            continue;
        }
        let mut tmp = tempfile::Builder::new()
            .prefix(".tracewright-")
            .suffix(".tmp")
            .tempfile_in(&args.out)
            .map_err(|e| Error::io(&args.out, "create a temporary file in", e))?;
        tmp.write_all(bytes).map_err(|e| Error::io(&path, "write", e))?;
        tmp.persist(&path).map_err(|e| Error::io(&path, "write", e.error))?;
        written += 1;
    }
    println!("{} seeds for model_actions in {} ({written} written, {} unchanged)", seeds.len(), args.out.display(), seeds.len() - written);
    Ok(ExitCode::Ok)
}
