//! Counterexample files: ITF JSON with tracewright's metadata.
//!
//! A trace is an [ITF] document (Apalache/Quint's Informal Trace Format), so
//! ITF tools read it as is; `tests/` proves the `itf` crate decodes every
//! committed trace. tracewright adds string fields to `#meta` (ITF readers
//! such as the `itf` crate accept only strings there):
//!
//! | key                  | meaning                                                |
//! |----------------------|--------------------------------------------------------|
//! | `tracewright-format` | this format's version, see the changelog below         |
//! | `tool`               | the tracewright that wrote the file                    |
//! | `spec`               | the TLA+ module                                        |
//! | `config`             | the `.cfg` path, relative to where `check` ran         |
//! | `config-label`       | `default`, or `X` of `Module_X.cfg`                    |
//! | `property`           | the violated property (`Deadlock` for a deadlock)      |
//! | `kind`               | `invariant`, `eventually` or `deadlock`                |
//! | `violation`          | the headline of the violation                          |
//! | `evidence`           | one `label: value` line per piece of evidence          |
//! | `constants`          | the config's constants as a JSON object of ITF values  |
//! | `header-variant`     | optional: which concrete corrupt header a walk sent    |
//!
//! Each state's `#meta` holds its `index` and the `action` that led to it, as
//! the model's stable label (`Deliver(m=2)`), never a position in a list of
//! actions: a trace replays by matching labels, so it still replays after the
//! model's action order changes. A liveness counterexample has ITF's `loop`:
//! the index of the state the last state returns to.
//!
//! Files are named `<spec>.<config-label>.<property>.<hash>.itf.json`, where
//! the hash covers spec, config label, property, states and actions — not the
//! tool version — so re-running a check finds its file already there and
//! leaves it alone. A file is written to a temporary name and renamed into
//! place, and a different file of the same name is never overwritten.
//!
//! # Changelog of `tracewright-format`
//!
//! - **1** (tracewright 0.1): the first version. The optional
//!   `header-variant` and the kind `divergence` (a conformance walk a system
//!   under test left) were added within it: readers that ignore them lose
//!   nothing they could use.
//!
//! [ITF]: https://apalache-mc.org/docs/adr/015adr-trace.html

pub mod itf;

use std::io::Write as _;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value as Json};
use sha2::{Digest, Sha256};

use crate::error::{Diagnostic, Error, Location, Result};
use crate::input;

/// The newest `tracewright-format` this build writes and reads.
pub const FORMAT_VERSION: u64 = 1;
const FORMAT_KEY: &str = "tracewright-format";

/// One state of a trace: the action label that led to it and the ITF
/// variables.
#[derive(Clone, Debug, PartialEq)]
pub struct Step {
    pub action: Option<String>,
    pub vars: Map<String, Json>,
}

/// A counterexample as it is on disk.
#[derive(Clone, Debug, PartialEq)]
pub struct TraceDoc {
    pub spec: String,
    pub source: String,
    pub config: String,
    pub config_label: String,
    pub property: String,
    pub kind: String,
    pub tool: String,
    pub headline: String,
    pub evidence: Vec<(String, String)>,
    /// The config's constants, as ITF values.
    pub constants: Map<String, Json>,
    pub vars: Vec<String>,
    pub loop_index: Option<usize>,
    /// For a walk replayed on a system under test: which member of each
    /// corrupt header's concrete family was sent (`header-variant`).
    pub header_variant: Option<u64>,
    pub steps: Vec<Step>,
}

impl TraceDoc {
    /// The short content hash in the file name.
    pub fn content_hash(&self) -> String {
        let mut semantic = serde_json::json!({
            "spec": self.spec,
            "config": self.config_label,
            "property": self.property,
            "loop": self.loop_index,
            "states": self.steps.iter().map(|s| serde_json::json!([s.action, s.vars])).collect::<Vec<_>>(),
        });
        // Only walks carry a variant; counterexamples keep the hash they had.
        if let Some(v) = self.header_variant {
            semantic["variant"] = Json::from(v);
        }
        let digest = Sha256::digest(semantic.to_string().as_bytes());
        digest.iter().take(4).map(|b| format!("{b:02x}")).collect()
    }

    pub fn file_name(&self) -> String {
        format!(
            "{}.{}.{}.{}.itf.json",
            self.spec,
            self.config_label,
            self.property,
            self.content_hash()
        )
    }

    pub fn to_json(&self) -> Json {
        let mut meta = Map::new();
        let mut put = |k: &str, v: &str| {
            meta.insert(k.to_string(), Json::String(v.to_string()));
        };
        put("format", "ITF");
        put("format-description", "https://apalache-mc.org/docs/adr/015adr-trace.html");
        put("source", &self.source);
        put("description", &format!("tracewright counterexample: {} violated", self.property));
        put(FORMAT_KEY, &FORMAT_VERSION.to_string());
        put("tool", &self.tool);
        put("spec", &self.spec);
        put("config", &self.config);
        put("config-label", &self.config_label);
        put("property", &self.property);
        put("kind", &self.kind);
        put("violation", &self.headline);
        let evidence: Vec<String> = self.evidence.iter().map(|(k, v)| format!("{k}: {v}")).collect();
        put("evidence", &evidence.join("\n"));
        put("constants", &Json::Object(self.constants.clone()).to_string());
        if let Some(v) = self.header_variant {
            put("header-variant", &v.to_string());
        }
        let states: Vec<Json> = self
            .steps
            .iter()
            .enumerate()
            .map(|(i, step)| {
                let mut state_meta = Map::new();
                state_meta.insert("index".into(), Json::from(i));
                if let Some(a) = &step.action {
                    state_meta.insert("action".into(), Json::String(a.clone()));
                }
                let mut o = step.vars.clone();
                o.insert("#meta".into(), Json::Object(state_meta));
                Json::Object(o)
            })
            .collect();
        let mut doc = Map::new();
        doc.insert("#meta".into(), Json::Object(meta));
        doc.insert("vars".into(), Json::Array(self.vars.iter().map(|v| Json::String(v.clone())).collect()));
        if let Some(l) = self.loop_index {
            doc.insert("loop".into(), Json::from(l));
        }
        doc.insert("states".into(), Json::Array(states));
        Json::Object(doc)
    }

    pub fn to_pretty(&self) -> String {
        let mut text = serde_json::to_string_pretty(&self.to_json()).expect("JSON values serialize");
        text.push('\n');
        text
    }

    /// Writes the trace into `dir` under its content-addressed name. An
    /// identical trace already there is left alone; a different file of the
    /// same name is an error, never overwritten.
    pub fn write_into(&self, dir: &Path) -> Result<Written> {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, "create trace directory", e))?;
        let path = dir.join(self.file_name());
        if path.exists() {
            return match TraceDoc::read(&path) {
                Ok(existing) if existing.content_hash() == self.content_hash() => Ok(Written::AlreadyPresent(path)),
                _ => Err(Error::Trace(
                    Diagnostic::new(Location::file(&path), "a different file already has this trace's name")
                        .hint("tracewright never overwrites a trace; move the file away and run again"),
                )),
            };
        }
        let mut tmp = tempfile::Builder::new()
            .prefix(".tracewright-")
            .suffix(".tmp")
            .tempfile_in(dir)
            .map_err(|e| Error::io(dir, "create a temporary file in", e))?;
        tmp.write_all(self.to_pretty().as_bytes()).map_err(|e| Error::io(&path, "write", e))?;
        tmp.as_file().sync_all().map_err(|e| Error::io(&path, "write", e))?;
        match tmp.persist_noclobber(&path) {
            Ok(_) => Ok(Written::New(path)),
            Err(e) => Err(Error::io(&path, "write", e.error)),
        }
    }

    /// Reads and validates a trace file.
    pub fn read(path: &Path) -> Result<TraceDoc> {
        let text = input::read_text(path, &input::TRACE, Error::Trace)?;
        TraceDoc::parse(path, &text)
    }

    /// Validates `text` as the trace at `path` (the path is for messages
    /// only), within [`input::TRACE`]'s bounds.
    pub fn parse(path: &Path, text: &str) -> Result<TraceDoc> {
        input::check_json(path, text, &input::TRACE, Error::Trace)?;
        let json: Json = serde_json::from_str(text).map_err(|e| {
            Error::Trace(
                input::json_error(path, &e, "trace is not valid JSON", &input::TRACE)
                    .hint("the file was cut short or edited; re-run `tracewright check` to write it again"),
            )
        })?;
        let bad = |headline: String| {
            Error::Trace(
                Diagnostic::new(Location::file(path), headline)
                    .hint("tracewright reads ITF traces written by `tracewright check`"),
            )
        };
        let doc = json.as_object().ok_or_else(|| bad("trace is not a JSON object".into()))?;
        let meta = doc
            .get("#meta")
            .and_then(Json::as_object)
            .ok_or_else(|| bad("trace has no `#meta` object".into()))?;
        let field = |k: &str| -> Result<String> {
            match meta.get(k) {
                Some(Json::String(s)) => Ok(s.clone()),
                _ => Err(bad(format!("`#meta.{k}` is missing or not a string"))),
            }
        };
        let version_text = field(FORMAT_KEY)?;
        let version: u64 = version_text
            .parse()
            .map_err(|_| bad(format!("`#meta.{FORMAT_KEY}` is `{version_text}`, not a number")))?;
        if version > FORMAT_VERSION {
            return Err(Error::TraceVersion { file: path.to_path_buf(), found: version, supported: FORMAT_VERSION });
        }
        if version == 0 {
            return Err(bad(format!("`#meta.{FORMAT_KEY}` is 0, which no tracewright writes")));
        }
        let constants_text = field("constants")?;
        input::check_json(path, &constants_text, &input::TRACE, |d| {
            let headline = format!("`#meta.constants`: {}", d.headline);
            Error::Trace(Diagnostic { location: Location::file(&d.location.file), headline, ..d })
        })?;
        let constants = match serde_json::from_str::<Json>(&constants_text) {
            Ok(Json::Object(o)) => o,
            _ => return Err(bad("`#meta.constants` is not a JSON object".into())),
        };
        let evidence = field("evidence")?
            .lines()
            .filter(|l| !l.is_empty())
            .map(|l| match l.split_once(": ") {
                Some((k, v)) => (k.to_string(), v.to_string()),
                None => (String::new(), l.to_string()),
            })
            .collect();
        let vars: Vec<String> = doc
            .get("vars")
            .and_then(Json::as_array)
            .ok_or_else(|| bad("trace has no `vars` list".into()))?
            .iter()
            .map(|v| v.as_str().map(str::to_owned).ok_or_else(|| bad("`vars` holds a non-string".into())))
            .collect::<Result<_>>()?;
        let states = doc
            .get("states")
            .and_then(Json::as_array)
            .ok_or_else(|| bad("trace has no `states` list".into()))?;
        if states.is_empty() {
            return Err(bad("trace has no states".into()));
        }
        let mut steps = Vec::new();
        for (i, state) in states.iter().enumerate() {
            let mut o = state.as_object().cloned().ok_or_else(|| bad(format!("state {i} is not an object")))?;
            let state_meta = o.remove("#meta");
            let action = state_meta
                .as_ref()
                .and_then(|m| m.get("action"))
                .and_then(Json::as_str)
                .map(str::to_owned);
            if i > 0 && action.is_none() {
                return Err(bad(format!("state {i} has no `#meta.action`")));
            }
            for v in &vars {
                if !o.contains_key(v) {
                    return Err(bad(format!("state {i} has no value for variable `{v}`")));
                }
            }
            steps.push(Step { action, vars: o });
        }
        let loop_index = match doc.get("loop") {
            None | Some(Json::Null) => None,
            Some(v) => match v.as_u64() {
                Some(l) if (l as usize) < steps.len() => Some(l as usize),
                _ => return Err(bad(format!("`loop` is {v}, not the index of a state"))),
            },
        };
        let header_variant = match meta.get("header-variant") {
            None => None,
            Some(Json::String(v)) => Some(v.parse::<u64>().map_err(|_| bad(format!("`#meta.header-variant` is `{v}`, not a number")))?),
            Some(_) => return Err(bad("`#meta.header-variant` is not a string".into())),
        };
        Ok(TraceDoc {
            header_variant,
            spec: field("spec")?,
            source: field("source")?,
            config: field("config")?,
            config_label: field("config-label")?,
            property: field("property")?,
            kind: field("kind")?,
            tool: field("tool")?,
            headline: field("violation")?,
            evidence,
            constants,
            vars,
            loop_index,
            steps,
        })
    }
}

/// Where a trace ended up.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Written {
    New(PathBuf),
    AlreadyPresent(PathBuf),
}

impl Written {
    pub fn path(&self) -> &Path {
        match self {
            Written::New(p) | Written::AlreadyPresent(p) => p,
        }
    }
}
