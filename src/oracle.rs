//! The span invariants over any set of span records: the model's stored
//! spans and real spans a backend or a collector recorded alike.
//!
//! The trace-context model judges `UniqueTraceId`, `UniqueSpanId`,
//! `NoDuplicateSpans` and `NoOrphanSpans` with these functions, and
//! `tracewright audit` judges recorded OTLP spans with the same ones, so a
//! property means the same thing on both sides. Ids are generic: the model's
//! small integers, or hex strings. Records carry no text: the model judges
//! every state it explores, so evidence is named, through a callback, only
//! when something is wrong.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Display;

use crate::model::{Verdict, Violation};

/// One span as a backend holds it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record<Id> {
    pub trace_id: Id,
    pub span_id: Id,
    /// None for a root span.
    pub parent: Option<Id>,
    /// Whether the span's trace flags say sampled, where they are known.
    pub sampled: Option<bool>,
    /// The span's identity: records with the same key are copies of one
    /// span (the same span exported twice).
    pub key: usize,
}

/// Names a record for evidence, by its position in the slice judged: a
/// label and what to say about it.
pub type Namer<'a> = &'a dyn Fn(usize) -> (String, String);

/// Below this many records a pairwise scan beats building a map: the model
/// judges every state it explores, each with a handful of spans.
const SMALL: usize = 32;

/// The first pair (i, j), i < j, with the same key, if any.
fn first_clash<K: Ord>(keys: &[K]) -> Option<(usize, usize)> {
    if keys.len() <= SMALL {
        for j in 1..keys.len() {
            if let Some(i) = (0..j).find(|&i| keys[i] == keys[j]) {
                return Some((i, j));
            }
        }
        return None;
    }
    let mut seen: BTreeMap<&K, usize> = BTreeMap::new();
    for (j, k) in keys.iter().enumerate() {
        if let Some(&i) = seen.get(k) {
            return Some((i, j));
        }
        seen.insert(k, j);
    }
    None
}

/// Distinct root spans carry distinct trace ids.
pub fn unique_trace_ids<Id: Ord + Display>(records: &[Record<Id>], name: Namer<'_>) -> Verdict {
    let roots: Vec<usize> = one_per_span(records).into_iter().filter(|&i| records[i].parent.is_none()).collect();
    let ids: Vec<&Id> = roots.iter().map(|&i| &records[i].trace_id).collect();
    match first_clash(&ids) {
        None => Ok(()),
        Some((a, b)) => Err(Violation::new(format!("two root spans share trace id {}", records[roots[b]].trace_id))
            .with_named(name(roots[a]))
            .with_named(name(roots[b]))),
    }
}

/// The positions of the first record of each span (copies folded).
fn one_per_span<Id>(records: &[Record<Id>]) -> Vec<usize> {
    if records.len() <= SMALL {
        (0..records.len()).filter(|&i| !records[..i].iter().any(|d| d.key == records[i].key)).collect()
    } else {
        let mut keys = BTreeSet::new();
        (0..records.len()).filter(|&i| keys.insert(records[i].key)).collect()
    }
}

/// No two different spans of one trace share a span id. Records with the
/// same key are copies of one span: a duplicate, judged by [`no_duplicates`].
pub fn unique_span_ids<Id: Ord + Display>(records: &[Record<Id>], name: Namer<'_>) -> Verdict {
    let spans = one_per_span(records);
    let ids: Vec<(&Id, &Id)> = spans.iter().map(|&i| (&records[i].trace_id, &records[i].span_id)).collect();
    match first_clash(&ids) {
        None => Ok(()),
        Some((a, b)) => {
            let r = &records[spans[b]];
            Err(Violation::new(format!("two spans share span id {} in trace {}", r.span_id, r.trace_id))
                .with_named(name(spans[a]))
                .with_named(name(spans[b])))
        }
    }
}

/// No span is recorded twice: no key appears twice. (Two different spans
/// with the same ids are a collision, judged by [`unique_span_ids`].)
pub fn no_duplicates<Id: Ord + Display>(records: &[Record<Id>], name: Namer<'_>) -> Verdict {
    let keys: Vec<usize> = records.iter().map(|r| r.key).collect();
    match first_clash(&keys) {
        None => Ok(()),
        Some((i, j)) => {
            let r = &records[j];
            Err(Violation::new(format!("span {} of trace {} is recorded more than once", r.span_id, r.trace_id))
                .with_named(name(i))
                .with_named(name(j)))
        }
    }
}

/// Every recorded span's parent is recorded, in the same trace.
pub fn no_orphans<Id: Ord + Display>(records: &[Record<Id>], name: Namer<'_>) -> Verdict {
    let present: BTreeSet<(&Id, &Id)> = records.iter().map(|r| (&r.trace_id, &r.span_id)).collect();
    for (i, r) in records.iter().enumerate() {
        if let Some(p) = &r.parent {
            if !present.contains(&(&r.trace_id, p)) {
                return Err(Violation::new(format!(
                    "span {} has parent {} in trace {}, which is not recorded",
                    r.span_id, p, r.trace_id
                ))
                .with_named(name(i)));
            }
        }
    }
    Ok(())
}

/// A recorded span says it was sampled: only sampled spans are exported.
pub fn exported_sampled<Id: Ord + Display>(records: &[Record<Id>], name: Namer<'_>) -> Verdict {
    match records.iter().position(|r| r.sampled == Some(false)) {
        None => Ok(()),
        Some(i) => Err(Violation::new(format!("span {} was exported although its flags say unsampled", records[i].span_id))
            .with_named(name(i))),
    }
}

/// Every property these functions judge over one set of recorded spans, by
/// the names the trace-context spec uses, in this order: what `audit`
/// reports and what the `model_actions` fuzzer compares between the model
/// and the SDK.
pub fn judge_all<Id: Ord + Display>(records: &[Record<Id>], name: Namer<'_>) -> [(&'static str, Verdict); 5] {
    [
        ("UniqueTraceId", unique_trace_ids(records, name)),
        ("UniqueSpanId", unique_span_ids(records, name)),
        ("NoDuplicateSpans", no_duplicates(records, name)),
        ("NoOrphanSpans", no_orphans(records, name)),
        ("SamplingConsistent", exported_sampled(records, name)),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(trace: u8, span: u8, parent: Option<u8>) -> Record<u8> {
        Record { trace_id: trace, span_id: span, parent, sampled: Some(true), key: span as usize }
    }

    fn name(key: usize) -> (String, String) {
        (format!("span {key}"), String::new())
    }

    #[test]
    fn a_clean_tree_passes_everything() {
        let spans = [rec(1, 1, None), rec(1, 2, Some(1)), rec(1, 3, Some(2)), rec(2, 4, None)];
        for judge in [unique_trace_ids, unique_span_ids, no_duplicates, no_orphans, exported_sampled] {
            assert_eq!(judge(&spans, &name), Ok(()));
        }
    }

    #[test]
    fn each_invariant_catches_its_own_fault() {
        assert!(unique_trace_ids(&[rec(1, 1, None), rec(1, 2, None)], &name).is_err());
        let mut other = rec(1, 1, Some(1));
        other.key = 9;
        assert!(unique_span_ids(&[rec(1, 1, None), other.clone()], &name).is_err());
        assert!(unique_span_ids(&[rec(1, 1, None), rec(1, 1, None)], &name).is_ok(), "a copy (same key) is a duplicate, not a collision");
        assert!(no_duplicates(&[rec(1, 1, None), rec(1, 1, None)], &name).is_err());
        assert!(no_duplicates(&[rec(1, 1, None), other.clone()], &name).is_ok(), "a collision is not a duplicate");
        assert!(no_orphans(&[rec(1, 2, Some(1))], &name).is_err());
        assert!(no_orphans(&[rec(1, 1, None), rec(2, 2, Some(1))], &name).is_err(), "the parent must be in the same trace");
        let mut unsampled = rec(1, 1, None);
        unsampled.sampled = Some(false);
        assert!(exported_sampled(&[unsampled], &name).is_err());
    }
}
