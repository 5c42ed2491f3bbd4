//! Expected failures and the exit codes they map to.
//!
//! Every failure a user can cause — a malformed `.cfg`, an unknown invariant, a
//! truncated trace — is a variant here with a message a person can act on: a
//! headline, labelled evidence, a `(hint: …)` line and the cause chain. Results
//! (a property violated, a run cut short) are not errors; they are reported by
//! the command and map to their own exit codes in [`ExitCode`].

use std::fmt;
use std::path::{Path, PathBuf};

/// The exit codes of `tracewright`. CI pipelines gate on them: keep them stable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExitCode {
    /// Every property came out as its config expects.
    Ok = 0,
    /// A property came out otherwise: an unexpected violation, or an expected
    /// violation that did not happen.
    Unexpected = 1,
    /// Bad input or setup: nothing was checked and nothing was written.
    BadInput = 2,
    /// Exploration stopped early (a bound, a timeout or Ctrl-C).
    Incomplete = 3,
}

impl ExitCode {
    pub fn code(self) -> i32 {
        self as i32
    }

    /// The code of several runs together: a definite failure outranks an
    /// incomplete run, which outranks success.
    pub fn combine(self, other: ExitCode) -> ExitCode {
        fn rank(c: ExitCode) -> u8 {
            match c {
                ExitCode::Ok => 0,
                ExitCode::Incomplete => 1,
                ExitCode::Unexpected => 2,
                ExitCode::BadInput => 3,
            }
        }
        if rank(other) > rank(self) { other } else { self }
    }
}

/// Where in a file something went wrong. Lines and columns are 1-based.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Location {
    pub file: PathBuf,
    pub line: Option<usize>,
    pub column: Option<usize>,
}

impl Location {
    pub fn file(file: &Path) -> Location {
        Location { file: file.to_path_buf(), line: None, column: None }
    }

    pub fn at(file: &Path, line: usize) -> Location {
        Location { file: file.to_path_buf(), line: Some(line), column: None }
    }

    pub fn at_column(file: &Path, line: usize, column: usize) -> Location {
        Location { file: file.to_path_buf(), line: Some(line), column: Some(column) }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.line, self.column) {
            (Some(line), Some(column)) => write!(f, "{}:{}:{}", self.file.display(), line, column),
            (Some(line), None) => write!(f, "{}:{}", self.file.display(), line),
            _ => write!(f, "{}", self.file.display()),
        }
    }
}

/// A message about one place in one input file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    pub location: Location,
    pub headline: String,
    pub evidence: Vec<(String, String)>,
    pub hint: Option<String>,
}

impl Diagnostic {
    pub fn new(location: Location, headline: impl Into<String>) -> Diagnostic {
        Diagnostic { location, headline: headline.into(), evidence: Vec::new(), hint: None }
    }

    pub fn evidence(mut self, label: impl Into<String>, value: impl Into<String>) -> Diagnostic {
        self.evidence.push((label.into(), value.into()));
        self
    }

    pub fn hint(mut self, hint: impl Into<String>) -> Diagnostic {
        self.hint = Some(hint.into());
        self
    }
}

/// An expected failure. Each variant says which input was wrong.
#[derive(Debug)]
pub enum Error {
    /// `check <name>` named no spec under the specs directory.
    UnknownSpec { name: String, searched: PathBuf, known: Vec<String> },
    /// A `.cfg` or `.tla` file is malformed or names something unknown.
    Spec(Diagnostic),
    /// A trace file is corrupt, truncated or does not fit its model.
    Trace(Diagnostic),
    /// A corpus of `conform --corpus` cannot be read, or one of its files is
    /// not an incoming carrier.
    Corpus(Diagnostic),
    /// A trace written by a newer tracewright.
    TraceVersion { file: PathBuf, found: u64, supported: u64 },
    /// Reading or writing a file failed.
    Io { path: PathBuf, action: &'static str, source: std::io::Error },
    /// The command line asks for something that cannot be done.
    Usage { headline: String, hint: Option<String> },
    /// A system under test is missing, hangs, crashes or answers out of
    /// protocol. `sut` names it ("python driver", "rust SDK").
    Sut { sut: String, headline: String, hint: Option<String> },
}

impl Error {
    pub fn exit_code(&self) -> ExitCode {
        match self {
            Error::UnknownSpec { .. }
            | Error::Spec(_)
            | Error::Trace(_)
            | Error::Corpus(_)
            | Error::TraceVersion { .. }
            | Error::Io { .. }
            | Error::Usage { .. }
            | Error::Sut { .. } => ExitCode::BadInput,
        }
    }

    pub fn io(path: &Path, action: &'static str, source: std::io::Error) -> Error {
        Error::Io { path: path.to_path_buf(), action, source }
    }

    pub fn spec(location: Location, headline: impl Into<String>) -> Error {
        Error::Spec(Diagnostic::new(location, headline))
    }

    pub fn usage(headline: impl Into<String>, hint: Option<&str>) -> Error {
        Error::Usage { headline: headline.into(), hint: hint.map(str::to_owned) }
    }

    /// The full message: headline, evidence, hint and cause chain, one per line.
    pub fn render(&self) -> String {
        let mut out = format!("error: {self}\n");
        let mut evidence: Vec<(String, String)> = Vec::new();
        let mut hint: Option<String> = None;
        match self {
            Error::UnknownSpec { searched, known, .. } => {
                evidence.push(("searched".into(), searched.display().to_string()));
                evidence.push(("known specs".into(), list_or_none(known)));
                hint = Some(
                    "name a spec above, or give the path of a .tla or .cfg file".to_string(),
                );
            }
            Error::Spec(d) | Error::Trace(d) | Error::Corpus(d) => {
                evidence.clone_from(&d.evidence);
                hint.clone_from(&d.hint);
            }
            Error::TraceVersion { found, supported, .. } => {
                evidence.push(("format version".into(), found.to_string()));
                evidence.push(("this tracewright reads".into(), format!("1 to {supported}")));
                hint = Some(
                    "the trace was written by a newer tracewright; upgrade tracewright to read it"
                        .to_string(),
                );
            }
            Error::Io { .. } => {}
            Error::Usage { hint: h, .. } | Error::Sut { hint: h, .. } => hint.clone_from(h),
        }
        for (label, value) in &evidence {
            out.push_str(&format!("  {label}: {value}\n"));
        }
        if let Some(hint) = hint {
            out.push_str(&format!("  (hint: {hint})\n"));
        }
        let mut source = std::error::Error::source(self);
        while let Some(cause) = source {
            out.push_str(&format!("  caused by: {cause}\n"));
            source = cause.source();
        }
        out
    }
}

fn list_or_none(items: &[String]) -> String {
    if items.is_empty() { "(none)".to_string() } else { items.join(", ") }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::UnknownSpec { name, .. } => write!(f, "no spec named `{name}`"),
            Error::Spec(d) | Error::Trace(d) | Error::Corpus(d) => write!(f, "{}: {}", d.location, d.headline),
            Error::TraceVersion { file, .. } => {
                write!(f, "{}: trace format is newer than this tracewright", file.display())
            }
            Error::Io { path, action, .. } => write!(f, "cannot {action} {}", path.display()),
            Error::Usage { headline, .. } => write!(f, "{headline}"),
            Error::Sut { sut, headline, .. } => write!(f, "{sut}: {headline}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
