//! `show` as text: a counterexample as a table of steps, each with its action
//! and the variables it changed, ending with the violation and its evidence.

use std::fmt::Write as _;
use std::path::Path;

use serde_json::Value as Json;

use crate::trace::{itf, TraceDoc};

pub fn text(doc: &TraceDoc, path: &Path) -> String {
    let mut out = String::new();
    let steps = doc.steps.len() - 1;
    let _ = writeln!(out, "trace     {}", path.display());
    let _ = writeln!(out, "spec      {} (config {}: {})", doc.spec, doc.config_label, doc.config);
    let _ = writeln!(
        out,
        "property  {} ({}) violated after {steps} step{}",
        doc.property,
        doc.kind,
        if steps == 1 { "" } else { "s" }
    );
    let _ = writeln!(out, "written   by {}", doc.tool);
    out.push('\n');
    let width = doc.steps.iter().filter_map(|s| s.action.as_deref()).map(str::len).max().unwrap_or(0).max(15);
    let _ = writeln!(out, "{:>4}  {:<width$}  changes", "step", "action");
    let mut previous: Option<&serde_json::Map<String, Json>> = None;
    for (k, step) in doc.steps.iter().enumerate() {
        let action = step.action.as_deref().unwrap_or("(initial state)");
        let mut lines: Vec<String> = Vec::new();
        match previous {
            None => {
                for var in &doc.vars {
                    let value = step.vars.get(var).map(itf::render).unwrap_or_default();
                    lines.push(format!("{var} = {value}"));
                }
            }
            Some(before) => {
                let mut changes = Vec::new();
                for var in &doc.vars {
                    itf::diff(var, before.get(var), step.vars.get(var), &mut changes);
                }
                for (at, was, now) in changes {
                    lines.push(match (was, now) {
                        (None, Some(now)) => format!("+{at} = {now}"),
                        (Some(was), None) => format!("-{at} (was {was})"),
                        (Some(was), Some(now)) => format!("{at}: {was} -> {now}"),
                        (None, None) => continue,
                    });
                }
                if lines.is_empty() {
                    lines.push("(no change)".to_string());
                }
            }
        }
        let marker = if doc.loop_index == Some(k) { " <- loop" } else { "" };
        for (i, line) in lines.iter().enumerate() {
            if i == 0 {
                let _ = writeln!(out, "{k:>4}  {:<width$}  {line}{marker}", action);
            } else {
                let _ = writeln!(out, "{:>4}  {:<width$}  {line}", "", "");
            }
        }
        previous = Some(&step.vars);
    }
    match doc.loop_index {
        Some(l) if l == steps => {
            let _ = writeln!(out, "\nthe behaviour stays at step {steps} forever");
        }
        Some(l) => {
            let _ = writeln!(out, "\nthe behaviour returns from step {steps} to step {l}, forever");
        }
        None => {}
    }
    let _ = writeln!(out, "\nviolated: {}", doc.property);
    let _ = writeln!(out, "  {}", doc.headline);
    for (label, value) in &doc.evidence {
        if label.is_empty() {
            let _ = writeln!(out, "  {value}");
        } else {
            let _ = writeln!(out, "  {label}: {value}");
        }
    }
    out
}
