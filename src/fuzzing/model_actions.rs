//! The `model_actions` fuzz target: a sequence of trace-context model actions
//! run in lockstep on the model and on the real Rust SDK (in process), the
//! SDK's exported spans then judged by the same span oracle as the model's.
//!
//! An input names a config and a walk through its model:
//!
//! ```text
//! byte 0          n, the length of the config label (at most 64)
//! bytes 1..=n     the config label, as `check` names it: `default`,
//!                 `fault_CorruptHeader`, `bug_NoInjection`, `conform`, …
//! byte n+1        the header variant: which member of a corrupt class's
//!                 concrete family is sent (`headers::family`)
//! then            choices, two bytes each, little-endian: at each state the
//!                 walk takes the enabled action the choice picks, modulo how
//!                 many are enabled (`conformance::walks::path_of`)
//! ```
//!
//! So every input past the label is a valid walk, and libFuzzer's mutations
//! of the choice bytes move a walk to its neighbours: another action here, a
//! header corrupted otherwise there. [`seed_of`] encodes a committed trace
//! the same way, so each counterexample under `traces/` is a seed that
//! decodes back to its own actions (`tracewright fuzz-seeds` writes them).
//!
//! The judgement, for a config without seeded bugs (whose model is wrong on
//! purpose, so its divergences are the point, not a finding) and without
//! ratio sampling (which the model decides by the parity of its small ids,
//! a real SDK by a random 128-bit id):
//!
//! 1. the replay must not diverge, or diverge only by a class the
//!    expectations file accepts for the Rust SDK;
//! 2. when it did not diverge, the span oracle's verdicts over what the SDK
//!    exported must equal its verdicts over the spans the model says the SDK
//!    exported (ended and sampled). The replay compares step by step; this
//!    compares the whole, so a difference the steps miss still shows.

use std::collections::BTreeMap;
use std::path::Path;

use crate::conformance::walks::{self, Walk};
use crate::error::Error;
use crate::conformance::{trace_context, Verdict as ReplayVerdict};
use crate::model::{SpecModel, Verdict};
use crate::models::trace_context::{SpanSt, State, TraceContext};
use crate::oracle::{self, Record};
use crate::spec;
use crate::sut::sdk::{FinishedSpan, RustSdk, Sdk};
use crate::trace::TraceDoc;

/// The longest config label an input may name.
const MAX_LABEL: usize = 64;
/// The most choices read from one input: longer walks only repeat the
/// quiescent tail.
const MAX_CHOICES: usize = 96;

/// A decoded input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Input<'a> {
    pub config: &'a str,
    pub walk: Walk,
}

impl<'a> Input<'a> {
    /// Reads an input; `None` if it is too short to name a config.
    pub fn decode(data: &'a [u8]) -> Option<Input<'a>> {
        let (&n, rest) = data.split_first()?;
        let n = usize::from(n);
        if n > MAX_LABEL || rest.len() < n + 1 {
            return None;
        }
        let config = std::str::from_utf8(&rest[..n]).ok()?;
        let variant = rest[n];
        let choices = rest[n + 1..]
            .chunks_exact(2)
            .take(MAX_CHOICES)
            .map(|pair| u16::from_le_bytes([pair[0], pair[1]]))
            .collect();
        Some(Input { config, walk: Walk { choices, variant } })
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(2 + self.config.len() + 2 * self.walk.choices.len());
        out.push(self.config.len() as u8);
        out.extend_from_slice(self.config.as_bytes());
        out.push(self.walk.variant);
        for choice in &self.walk.choices {
            out.extend_from_slice(&choice.to_le_bytes());
        }
        out
    }
}

/// Every trace-context config under the specs directory, by label, with
/// whether it seeds a bug.
pub struct Configs {
    models: BTreeMap<String, TraceContext>,
}

impl Configs {
    /// Loads every `TraceContext` config under `specs`: those beside the
    /// spec, which `check --all` runs, and those in its subdirectories
    /// (`conform/`, `bench/`).
    pub fn load(specs: &Path) -> crate::error::Result<Configs> {
        let dir = spec::resolve(TraceContext::MODULE, specs)?.tla.parent().map(Path::to_path_buf).unwrap_or_default();
        let mut dirs = vec![dir.clone()];
        for entry in std::fs::read_dir(&dir).map_err(|e| Error::io(&dir, "list directory", e))?.flatten() {
            if entry.path().is_dir() {
                dirs.push(entry.path());
            }
        }
        let mut models = BTreeMap::new();
        for d in dirs {
            for entry in std::fs::read_dir(&d).map_err(|e| Error::io(&d, "list directory", e))?.flatten() {
                if entry.path().extension().is_some_and(|e| e == "cfg") {
                    let files = spec::config_of(&entry.path())?;
                    let loaded = spec::load(&files)?;
                    models.insert(files.config_label(), TraceContext::from_constants(&loaded.constants)?);
                }
            }
        }
        Ok(Configs { models })
    }

    pub fn get(&self, label: &str) -> Option<&TraceContext> {
        self.models.get(label)
    }
}

/// The seed for a committed trace: its config and the choices that retrace
/// its actions. `None` for a trace of another spec, of a config no longer
/// under `specs/`, or whose actions the model no longer takes.
pub fn seed_of(configs: &Configs, doc: &TraceDoc) -> Option<Vec<u8>> {
    if doc.spec != TraceContext::MODULE || doc.config_label.len() > MAX_LABEL {
        return None;
    }
    let model = configs.get(&doc.config_label)?;
    let labels: Vec<String> = doc.steps.iter().filter_map(|s| s.action.clone()).collect();
    let choices = walks::choices_of(model, &labels)?;
    if choices.len() > MAX_CHOICES {
        return None;
    }
    let variant = doc.header_variant.unwrap_or(0).min(u64::from(u8::MAX)) as u8;
    Some(Input { config: &doc.config_label, walk: Walk { choices, variant } }.encode())
}

/// The action labels an input's walk takes.
pub fn labels_of(configs: &Configs, input: &Input<'_>) -> Option<Vec<String>> {
    let model = configs.get(input.config)?;
    Some(walks::path_of(model, &input.walk).iter().filter_map(|(a, _)| a.as_ref().map(|a| model.label(a))).collect())
}

/// What one input came to.
#[derive(Debug)]
pub enum Outcome {
    /// The input names no known config.
    Skipped,
    /// A config with seeded bugs or ratio sampling: the walk ran, nothing
    /// is judged.
    Ran,
    /// The SDK did as the model says, by every step and by the oracle.
    Agrees,
    /// A divergence the expectations accept for the Rust SDK.
    Expected(String),
    /// Something to report: a divergence of a class not accepted, or the
    /// oracle judging the SDK's spans otherwise than the model's.
    Finding(String),
}

/// Runs one input on `sdk` (reset first). `expected` says whether the
/// expectations accept a divergence class for the Rust SDK.
pub fn run(configs: &Configs, sdk: &mut dyn Sdk, data: &[u8], expected: &dyn Fn(&str) -> bool) -> crate::error::Result<Outcome> {
    let Some(input) = Input::decode(data) else { return Ok(Outcome::Skipped) };
    let Some(model) = configs.get(input.config) else { return Ok(Outcome::Skipped) };
    if model.uses_b3() {
        // The SDK replay drives W3C propagators only (see trace_context::replay_trace).
        return Ok(Outcome::Skipped);
    }
    let path = walks::path_of(model, &input.walk);
    sdk.reset()?;
    let report = trace_context::replay(model, &path, sdk, "rust", None, usize::from(input.walk.variant))?;
    if model.seeds_a_bug() || model.samples_by_ratio() {
        return Ok(Outcome::Ran);
    }
    if let ReplayVerdict::Diverged(d) = &report.verdict {
        return Ok(if expected(&d.class) {
            Outcome::Expected(d.class.clone())
        } else {
            Outcome::Finding(format!("[{}] {d}", d.class))
        });
    }
    let last = &path.last().expect("a path has its initial state").1;
    let exported = sdk.spans()?;
    let model_side = judge(&model_records(last));
    let sdk_side = judge(&sdk_records(&exported));
    for ((name, m), (_, s)) in model_side.iter().zip(&sdk_side) {
        if m.is_ok() != s.is_ok() {
            let say = |v: &Verdict| match v {
                Ok(()) => "holds".to_string(),
                Err(e) => format!("violated: {}", e.headline),
            };
            return Ok(Outcome::Finding(format!(
                "oracle/{name}: on the model's exported spans it {}, on the Rust SDK's it {} (walk of {} steps on config {})",
                say(m),
                say(s),
                path.len() - 1,
                input.config
            )));
        }
    }
    Ok(Outcome::Agrees)
}

/// The spans the model says the SDK exported: ended, and sampled.
fn model_records(s: &State) -> Vec<Record<u32>> {
    s.handles()
        .filter(|&i| s.span(i).st != SpanSt::Open && s.span(i).sampled)
        .map(|i| {
            let x = s.span(i);
            Record {
                trace_id: u32::from(x.tid),
                span_id: u32::from(x.sid),
                parent: (x.parent != 0).then_some(u32::from(x.parent)),
                sampled: Some(x.sampled),
                key: usize::from(i),
            }
        })
        .collect()
}

/// What the SDK exported; identical records are copies of one span (one
/// exported twice) and share a key, as `audit` reads recorded spans.
fn sdk_records(spans: &[FinishedSpan]) -> Vec<Record<&str>> {
    spans
        .iter()
        .enumerate()
        .map(|(i, x)| Record {
            trace_id: x.trace_id.as_str(),
            span_id: x.span_id.as_str(),
            parent: (!x.parent_span_id.is_empty()).then_some(x.parent_span_id.as_str()),
            sampled: Some(x.sampled),
            key: spans.iter().position(|y| y == x).unwrap_or(i),
        })
        .collect()
}

fn judge<Id: Ord + std::fmt::Display>(records: &[Record<Id>]) -> [(&'static str, Verdict); 5] {
    oracle::judge_all(records, &|i: usize| (format!("span {i}"), String::new()))
}

/// The fuzz target's state: every config's model and one in-process SDK,
/// made once per fuzzing thread.
pub struct Target {
    configs: Configs,
    sdk: RustSdk,
}

impl Target {
    pub fn new() -> Target {
        let configs = Configs::load(&spec::specs_root()).expect("the committed trace-context configs load");
        Target { configs, sdk: RustSdk::new() }
    }

    pub fn run(&mut self, data: &[u8], expected: &dyn Fn(&str) -> bool) -> Outcome {
        run(&self.configs, &mut self.sdk, data, expected).expect("the in-process Rust SDK answers every request")
    }
}

impl Default for Target {
    fn default() -> Target {
        Target::new()
    }
}
