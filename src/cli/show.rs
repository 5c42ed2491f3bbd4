//! `tracewright show <trace.itf.json> [--format text|mermaid]`

use std::path::PathBuf;

use clap::{Args, ValueEnum};

use crate::engine::open_trace;
use crate::error::{ExitCode, Result};

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ShowFormat {
    /// A table of steps with the variables each changed.
    Text,
    /// A Mermaid sequence diagram.
    Mermaid,
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// The trace file, as written by `check`.
    pub trace: PathBuf,
    #[arg(long, value_enum, default_value = "text", env = "TRACEWRIGHT_SHOW_FORMAT")]
    pub format: ShowFormat,
}

pub fn run(args: ShowArgs) -> Result<ExitCode> {
    let (doc, model) = open_trace(&args.trace)?;
    let text = model.show(&doc, &args.trace, args.format == ShowFormat::Mermaid)?;
    print!("{text}");
    Ok(ExitCode::Ok)
}
