//! The committed list of divergences from the W3C reference that are
//! understood and accepted, per system under test: `conformance/expectations.json`.
//! The fuzz targets and the conformance report read the same file: a
//! disagreement whose `(sut, class)` is listed is known, one that is not is
//! *new* and fails CI, and an entry that nothing matched in a run is *stale*
//! ([`Expectations::unmatched`]) — the SUT was fixed, or the class renamed.
//!
//! # Format (version 1)
//!
//! ```json
//! {
//!   "version": 1,
//!   "divergences": [
//!     {
//!       "sut": "rust",
//!       "class": "traceparent/accepts-invalid/UpperCaseHex/version",
//!       "rule": "traceparent: version",
//!       "example": "traceparent: 0A-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\ntracestate: congo=t61rcWkgMzE",
//!       "why": "the SDK checks upper case in trace-id, parent-id and flags but not in the version"
//!     }
//!   ]
//! }
//! ```
//!
//! - `sut`: the system under test, as `--sut` names it (`rust`, `python`, …).
//! - `class`: a [`crate::differential::Class`], `<stage>/<kind>/<detail>`.
//! - `rule`: the section of the specification that decides, as the
//!   reference's `rule()` labels spell it.
//! - `example`: an input that shows the divergence, as header lines
//!   (`traceparent: VALUE` / `tracestate: VALUE`, one per field line; see
//!   [`crate::differential::HeaderLines`]); for a `b3/<propagator>/…` class,
//!   B3 header lines (`b3: VALUE`, `x-b3-traceid: VALUE`, …). Tests replay
//!   it and require exactly this class.
//! - `why`: why the divergence is understood and accepted.
//!
//! - `layer` (optional): where the divergence lives. Absent or
//!   `"propagator"`: in the SDK's propagator, which both transports reach
//!   (`conform --transport api|http`); `"http"`: in the SDK's HTTP stack
//!   (server, client, instrumentation), which only `--transport http`
//!   reaches — the example is then the request's field lines.
//!
//! Every other field is required and non-empty, no other field is allowed,
//! and a `(sut, class, layer)` triple appears once.
//!
//! # Changelog of `version`
//!
//! - **1** (tracewright 0.1): the first version.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

use crate::differential::HeaderLines;
use crate::error::{Diagnostic, Error, Location, Result};
use crate::input;

/// The newest format version this build reads.
pub const FORMAT_VERSION: u64 = 1;

/// Where the file lives, relative to the repository root.
pub const DEFAULT_PATH: &str = "conformance/expectations.json";

/// One accepted divergence.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    pub sut: String,
    pub class: String,
    pub rule: String,
    pub example: String,
    pub why: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub layer: Option<String>,
}

/// Whether `line` is a B3 header line, `name: value`, as the example of a
/// `b3/…` class is written.
fn b3_header_line(line: &str) -> bool {
    line.split_once(": ").is_some_and(|(name, _)| {
        let name = name.to_ascii_lowercase();
        name == "b3" || name.starts_with("x-b3-")
    })
}

/// The layers an entry may name.
pub const LAYERS: [&str; 2] = ["propagator", "http"];

impl Entry {
    /// `propagator` or `http`.
    pub fn layer(&self) -> &str {
        self.layer.as_deref().unwrap_or("propagator")
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[allow(dead_code, reason = "checked before the typed parse")]
    version: u64,
    divergences: Vec<Entry>,
}

/// The loaded file, and which entries a run has matched so far.
#[derive(Debug)]
pub struct Expectations {
    path: PathBuf,
    entries: Vec<Entry>,
    /// Indices into `entries`, sorted by `(sut, class)`.
    by_key: Vec<usize>,
    matched: Vec<AtomicBool>,
}

impl Expectations {
    /// Reads and validates an expectations file.
    pub fn load(path: &Path) -> Result<Expectations> {
        let text = input::read_text(path, &input::EXPECTATIONS, Error::Spec)?;
        Expectations::parse(path, &text)
    }

    /// Validates `text` as the expectations file at `path` (the path is for
    /// messages only).
    pub fn parse(path: &Path, text: &str) -> Result<Expectations> {
        let bad = |line: Option<usize>, headline: String| {
            let location = match line {
                Some(line) => Location::at(path, line),
                None => Location::file(path),
            };
            Error::Spec(Diagnostic::new(location, headline).hint(
                "see the format in the documentation of tracewright::expectations \
                 (src/expectations.rs)",
            ))
        };
        let json_error = |e: serde_json::Error, what: &str| {
            Error::Spec(
                input::json_error(path, &e, &format!("{what} is not valid"), &input::EXPECTATIONS)
                    .hint(
                        "the file lists accepted divergences as \
                         {\"version\": 1, \"divergences\": [{\"sut\", \"class\", \"rule\", \
                         \"example\", \"why\"}]}",
                    ),
            )
        };

        // The version first, so that a newer file is refused for its version
        // rather than for a field this build does not know.
        input::check_json(path, text, &input::EXPECTATIONS, Error::Spec)?;
        let json: Json = serde_json::from_str(text).map_err(|e| json_error(e, "expectations JSON"))?;
        let version = match json.get("version") {
            Some(v) => v.as_u64().ok_or_else(|| {
                bad(line_of(text, "\"version\"", 0), format!("`version` is {v}, not a number"))
            })?,
            None => return Err(bad(None, "expectations file has no `version`".into())),
        };
        if version > FORMAT_VERSION {
            return Err(Error::Spec(
                Diagnostic::new(
                    Location::at(path, line_of(text, "\"version\"", 0).unwrap_or(1)),
                    format!("expectations format {version} is newer than this tracewright"),
                )
                .evidence("this tracewright reads", format!("1 to {FORMAT_VERSION}"))
                .hint("upgrade tracewright, or keep the file at a version it reads"),
            ));
        }
        if version == 0 {
            return Err(bad(line_of(text, "\"version\"", 0), "`version` 0 does not exist".into()));
        }
        let file: File =
            serde_json::from_str(text).map_err(|e| json_error(e, "expectations file"))?;

        let mut seen_class = std::collections::BTreeMap::<&str, usize>::new();
        for entry in &file.divergences {
            // The n-th time this class string occurs is this entry's line.
            let quoted = serde_json::to_string(&entry.class).unwrap_or_default();
            let nth = seen_class.entry(entry.class.as_str()).or_insert(0);
            let line = line_of(text, &quoted, *nth);
            *nth += 1;
            for (name, value) in [
                ("sut", &entry.sut),
                ("class", &entry.class),
                ("rule", &entry.rule),
                ("example", &entry.example),
                ("why", &entry.why),
            ] {
                if value.trim().is_empty() {
                    return Err(bad(line, format!("`{name}` of class {:?} is empty", entry.class)));
                }
            }
            if entry.class.split('/').count() < 3 || entry.class.split('/').any(str::is_empty) {
                return Err(bad(
                    line,
                    format!("class {:?} is not of the form <stage>/<kind>/<detail>", entry.class),
                ));
            }
            if !LAYERS.contains(&entry.layer()) {
                return Err(bad(line, format!("`layer` of class {:?} is {:?}: give propagator or http", entry.class, entry.layer())));
            }
            if entry.class.starts_with("b3/") {
                if let Some(l) = entry.example.lines().find(|l| !b3_header_line(l)) {
                    return Err(bad(line, format!("the example of B3 class {:?}: {l:?} is not a B3 header line (b3: VALUE, x-b3-…: VALUE)", entry.class)));
                }
            } else if let Err(e) = HeaderLines::parse(&entry.example) {
                return Err(bad(line, format!("the example of class {:?}: {e}", entry.class)));
            }
        }

        let entries = file.divergences;
        let mut by_key: Vec<usize> = (0..entries.len()).collect();
        let key = |i: usize| (entries[i].sut.as_str(), entries[i].class.as_str(), entries[i].layer());
        by_key.sort_by(|&a, &b| key(a).cmp(&key(b)));
        for pair in by_key.windows(2) {
            if key(pair[0]) == key(pair[1]) {
                let e = &entries[pair[1]];
                let quoted = serde_json::to_string(&e.class).unwrap_or_default();
                return Err(bad(
                    line_of(text, &quoted, 1),
                    format!("sut {:?} lists class {:?} twice", e.sut, e.class),
                ));
            }
        }
        let matched = entries.iter().map(|_| AtomicBool::new(false)).collect();
        Ok(Expectations { path: path.to_path_buf(), entries, by_key, matched })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Every entry, in file order.
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// The accepted divergence `class` of `sut`, if it is listed; a listed one
    /// counts as matched from now on.
    pub fn expected(&self, sut: &str, class: &str) -> Option<&Entry> {
        self.expected_in(sut, class, "propagator")
    }

    /// The accepted divergence `class` of `sut` in `layer` (`propagator` or
    /// `http`), if it is listed; a listed one counts as matched from now on.
    pub fn expected_in(&self, sut: &str, class: &str, layer: &str) -> Option<&Entry> {
        let at = self
            .by_key
            .binary_search_by(|&i| {
                let e = &self.entries[i];
                (e.sut.as_str(), e.class.as_str(), e.layer()).cmp(&(sut, class, layer))
            })
            .ok()?;
        let i = self.by_key[at];
        // A load before the store keeps a hot loop from writing the same line.
        if !self.matched[i].load(Ordering::Relaxed) {
            self.matched[i].store(true, Ordering::Relaxed);
        }
        Some(&self.entries[i])
    }

    /// The entries of `sut` that [`Expectations::expected`] has not matched
    /// since loading or [`Expectations::forget_matches`]: stale expectations,
    /// once a run has covered everything it should.
    pub fn unmatched(&self, sut: &str) -> Vec<&Entry> {
        self.entries
            .iter()
            .zip(&self.matched)
            .filter(|(e, m)| e.sut == sut && !m.load(Ordering::Relaxed))
            .map(|(e, _)| e)
            .collect()
    }

    /// Starts a new run: no entry counts as matched.
    pub fn forget_matches(&self) {
        for m in &self.matched {
            m.store(false, Ordering::Relaxed);
        }
    }
}

/// The 1-based line of the `nth` (from 0) occurrence of `needle` in `text`.
fn line_of(text: &str, needle: &str, nth: usize) -> Option<usize> {
    let (at, _) = text.match_indices(needle).nth(nth)?;
    Some(text[..at].matches('\n').count() + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Expectations> {
        Expectations::parse(Path::new("e.json"), text)
    }

    const ONE: &str = r#"{
  "version": 1,
  "divergences": [
    {"sut": "rust", "class": "a/b/c", "rule": "r", "example": "traceparent: x", "why": "w"}
  ]
}"#;

    #[test]
    fn lookups_mark_entries_matched() {
        let e = parse(ONE).expect("valid");
        assert_eq!(e.unmatched("rust").len(), 1);
        assert_eq!(e.expected("rust", "a/b/c").map(|x| x.why.as_str()), Some("w"));
        assert!(e.expected("python", "a/b/c").is_none());
        assert!(e.expected("rust", "a/b").is_none());
        assert!(e.unmatched("rust").is_empty());
        e.forget_matches();
        assert_eq!(e.unmatched("rust").len(), 1);
    }

    #[test]
    fn errors_name_the_line() {
        let twice = ONE.replace(
            "\"why\": \"w\"}",
            "\"why\": \"w\"},\n    {\"sut\": \"rust\", \"class\": \"a/b/c\", \"rule\": \"r\", \"example\": \"tracestate: y\", \"why\": \"w\"}",
        );
        let err = parse(&twice).expect_err("duplicate").to_string();
        assert_eq!(err, "e.json:5: sut \"rust\" lists class \"a/b/c\" twice");
        let empty = ONE.replace("\"why\": \"w\"", "\"why\": \" \"");
        let err = parse(&empty).expect_err("empty why").to_string();
        assert_eq!(err, "e.json:4: `why` of class \"a/b/c\" is empty");
        let newer = ONE.replace("\"version\": 1", "\"version\": 2");
        let err = parse(&newer).expect_err("newer").to_string();
        assert_eq!(err, "e.json:2: expectations format 2 is newer than this tracewright");
    }
}
