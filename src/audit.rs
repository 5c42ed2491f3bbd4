//! The span invariants over spans a real system recorded, read from OTLP
//! JSON by [`crate::otlp::json`].
//!
//! The judging is [`crate::oracle`]'s, the same functions the trace-context
//! model's invariants call, so `NoOrphanSpans` in an audit and in a
//! counterexample mean the same thing.

use crate::model::Verdict;
use crate::oracle::{self, Record};
use crate::otlp::SpanRow;

/// Judges every property of [`oracle::judge_all`] over the rows, in its order.
pub fn judge(rows: &[SpanRow]) -> Vec<(&'static str, Verdict)> {
    // Identical rows are copies of one span and share a key.
    let mut first_of: std::collections::HashMap<(&str, &str, &str, &str, &str), usize> = std::collections::HashMap::new();
    let records: Vec<Record<&str>> = rows
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let content = (r.trace_id.as_str(), r.span_id.as_str(), r.parent_span_id.as_str(), r.name.as_str(), r.service.as_str());
            Record {
                trace_id: r.trace_id.as_str(),
                span_id: r.span_id.as_str(),
                parent: (!r.parent_span_id.is_empty()).then_some(r.parent_span_id.as_str()),
                // OTLP flags: the low byte is the W3C trace flags; the field is
                // absent (or 0 with no bits set) where the exporter predates it.
                sampled: r.flags.filter(|f| *f != 0).map(|f| f & 0x01 == 1),
                key: *first_of.entry(content).or_insert(i),
            }
        })
        .collect();
    // Records are in row order, so a record's position is its row's.
    let name = |i: usize| {
        let r = &rows[i];
        (format!("line {}", r.origin), format!("{} {:?} trace={} id={} parent={}", r.service, r.name, r.trace_id, r.span_id, if r.parent_span_id.is_empty() { "none" } else { &r.parent_span_id }))
    };
    oracle::judge_all(&records, &name).into()
}

/// What the recorded spans say was lost upstream, though not what: spans
/// named as a parent in their trace and never recorded, and traces with no
/// root span recorded.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Losses {
    pub missing_parents: usize,
    pub rootless_traces: usize,
}

/// Counts [`Losses`] in the rows.
pub fn losses(rows: &[SpanRow]) -> Losses {
    use std::collections::BTreeSet;
    let present: BTreeSet<(&str, &str)> = rows.iter().map(|r| (r.trace_id.as_str(), r.span_id.as_str())).collect();
    let missing: BTreeSet<(&str, &str)> = rows
        .iter()
        .filter(|r| !r.parent_span_id.is_empty())
        .map(|r| (r.trace_id.as_str(), r.parent_span_id.as_str()))
        .filter(|k| !present.contains(k))
        .collect();
    let traces: BTreeSet<&str> = rows.iter().map(|r| r.trace_id.as_str()).collect();
    let rooted: BTreeSet<&str> = rows.iter().filter(|r| r.parent_span_id.is_empty()).map(|r| r.trace_id.as_str()).collect();
    Losses { missing_parents: missing.len(), rootless_traces: traces.difference(&rooted).count() }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(trace: &str, span: &str, parent: &str) -> SpanRow {
        SpanRow {
            service: "s".into(),
            name: span.into(),
            trace_id: trace.into(),
            span_id: span.into(),
            parent_span_id: parent.into(),
            flags: None,
            attributes: Default::default(),
            origin: 0,
        }
    }

    #[test]
    fn losses_count_missing_parents_and_rootless_traces_and_nothing_in_a_whole_tree() {
        let whole = [row("t1", "a", ""), row("t1", "b", "a"), row("t1", "c", "b")];
        assert_eq!(losses(&whole), Losses::default());
        // t2 lost its root a and span x; two orphans name a, one names x.
        let split = [row("t2", "b", "a"), row("t2", "c", "a"), row("t2", "d", "x"), row("t1", "a", "")];
        assert_eq!(losses(&split), Losses { missing_parents: 2, rootless_traces: 1 });
    }
}
