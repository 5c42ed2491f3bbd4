//! The parallel, level-synchronous breadth-first search both the safety check
//! and the liveness check run on. What a search expands and judges comes
//! from a [`Visitor`].
//!
//! A level is a list of blocks of at most [`BLOCK`] states. Each block is
//!
//! 1. *expanded* in parallel: every successor whose fingerprint is not yet
//!    stored becomes a candidate, bucketed by fingerprint shard; the store is
//!    only read;
//! 2. *merged* in parallel, one task per shard: the shard's candidates are
//!    sorted by (fingerprint, parent), the first of each is stored with its
//!    parent and judged.
//!
//! No locks are taken and no result depends on thread timing: the states of
//! each level, the parent each records (the smallest fingerprint among its
//! parents in the same block) and the finding kept per property (smallest
//! fingerprint at the shallowest depth) are the same for any thread count,
//! because blocks have a fixed size. Memory holds the store, one level and one
//! block's successors.

use std::hash::{BuildHasherDefault, Hasher};
use std::sync::atomic::Ordering;
use std::time::Instant;

use rayon::prelude::*;

use super::{fingerprint, Fingerprint, Options, StopReason};
use crate::model::Violation;

/// States expanded between two merges. Fixed, so that which parent a state
/// records never depends on the number of threads.
pub(crate) const BLOCK: usize = 1 << 14;

/// Keys are fingerprints already: the store hashes them no further.
#[derive(Default, Clone, Copy)]
pub(crate) struct IdentityHasher(u64);

impl Hasher for IdentityHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, _: &[u8]) {
        unreachable!("only u64 fingerprints are hashed")
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

/// Fingerprint -> parent fingerprint (an initial state is its own parent).
pub(crate) type Shard = hashbrown::HashMap<Fingerprint, Fingerprint, BuildHasherDefault<IdentityHasher>>;

/// Shards are chosen by fingerprint bits the tables do not use for bucket or
/// tag, so every shard stays evenly spread.
const SHARD_BITS: u32 = 8;
pub(crate) const SHARDS: usize = 1 << SHARD_BITS;

pub(crate) fn shard_of(fp: Fingerprint) -> usize {
    ((fp >> 32) as usize) & (SHARDS - 1)
}

/// What a search does with each state.
pub(crate) trait Visitor<S>: Sync {
    /// Pushes the successors to store and explore onto `out`, each with its
    /// fingerprint; `fp` is the fingerprint of `state`. Returns how many
    /// successors were generated (for the count) and whether the state is a
    /// dead end of this search.
    fn expand(&self, fp: Fingerprint, state: &S, out: &mut Vec<(Fingerprint, S)>) -> (u64, bool);
    /// The findings, by property index, on a newly stored state.
    fn judge(&self, state: &S) -> Vec<(usize, Violation)>;
    /// Whether property `index` still needs judging; a property found at a
    /// shallower depth already has its shortest counterexample.
    fn retire(&self, index: usize);
}

/// The first finding for one property: shallowest, then smallest fingerprint.
pub(crate) struct Found {
    pub depth: u64,
    pub fp: Fingerprint,
    pub violation: Violation,
}

pub(crate) fn keep_first(slot: &mut Option<Found>, depth: u64, fp: Fingerprint, violation: Violation) {
    if slot.as_ref().is_none_or(|f| (depth, fp) < (f.depth, f.fp)) {
        *slot = Some(Found { depth, fp, violation });
    }
}

pub(crate) struct Search {
    pub store: Vec<Shard>,
    pub distinct: u64,
    pub generated: u64,
    pub depth: u64,
    pub stopped: Option<StopReason>,
    /// Per property index, the first finding.
    pub found: Vec<Option<Found>>,
    /// The first dead end, if the visitor reported any.
    pub dead: Option<(u64, Fingerprint)>,
}

struct Candidate<S> {
    fp: Fingerprint,
    parent: Fingerprint,
    state: S,
}

struct Step<S> {
    fresh: Vec<(Fingerprint, S)>,
    generated: u64,
    dead: Vec<Fingerprint>,
    findings: Vec<(usize, Fingerprint, Violation)>,
}

pub(crate) fn search<S, V>(inits: Vec<S>, visitor: &V, properties: usize, options: &Options) -> Search
where
    S: Clone + std::hash::Hash + Send + Sync,
    V: Visitor<S>,
{
    let start = Instant::now();
    let mut s = Search {
        store: (0..SHARDS).map(|_| Shard::default()).collect(),
        distinct: 0,
        generated: inits.len() as u64,
        depth: 0,
        stopped: None,
        found: (0..properties).map(|_| None).collect(),
        dead: None,
    };
    let mut first = Vec::new();
    let mut inits: Vec<(Fingerprint, S)> = inits.into_iter().map(|st| (fingerprint(&st), st)).collect();
    inits.sort_by_key(|(fp, _)| *fp);
    for (fp, state) in inits {
        if options.max_states.is_some_and(|n| s.distinct >= n) {
            s.stopped = options.max_states.map(StopReason::MaxStates);
            break;
        }
        let shard = &mut s.store[shard_of(fp)];
        if shard.contains_key(&fp) {
            continue;
        }
        shard.insert(fp, fp);
        s.distinct += 1;
        for (i, v) in visitor.judge(&state) {
            keep_first(&mut s.found[i], 1, fp, v);
        }
        first.push((fp, state));
    }
    if !first.is_empty() {
        s.depth = 1;
    }
    let mut frontier: Vec<Vec<(Fingerprint, S)>> = vec![first];
    publish(options, &s);

    'levels: while frontier.iter().any(|b| !b.is_empty()) {
        if options.max_depth.is_some_and(|d| s.depth >= u64::from(d)) {
            s.stopped = Some(StopReason::MaxDepth(options.max_depth.unwrap_or(0)));
            break;
        }
        for (i, f) in s.found.iter().enumerate() {
            if f.is_some() {
                visitor.retire(i);
            }
        }
        let next_depth = s.depth + 1;
        let mut next: Vec<Vec<(Fingerprint, S)>> = Vec::new();
        for block in std::mem::take(&mut frontier) {
            if let Some(reason) = should_stop(options, start, s.distinct) {
                s.stopped = Some(reason);
                break 'levels;
            }
            let mut step = expand(block, &mut s.store, visitor);
            let over = options.max_states.filter(|&n| s.distinct + step.fresh.len() as u64 > n);
            if let Some(n) = over {
                keep_at_most(&mut step, &mut s.store, (n - s.distinct) as usize);
            }
            s.generated += step.generated;
            s.distinct += step.fresh.len() as u64;
            for fp in step.dead {
                if s.dead.is_none_or(|(d, f)| (s.depth, fp) < (d, f)) {
                    s.dead = Some((s.depth, fp));
                }
            }
            for (i, fp, v) in step.findings {
                keep_first(&mut s.found[i], next_depth, fp, v);
            }
            for item in step.fresh {
                match next.last_mut() {
                    Some(b) if b.len() < BLOCK => b.push(item),
                    _ => {
                        let mut b = Vec::with_capacity(1024);
                        b.push(item);
                        next.push(b);
                    }
                }
            }
            publish(options, &s);
            if let Some(n) = over {
                // Exactly n distinct states are stored; the rest of this
                // block's successors were taken out again.
                if !next.is_empty() {
                    s.depth = next_depth;
                }
                s.stopped = Some(StopReason::MaxStates(n));
                publish(options, &s);
                break 'levels;
            }
        }
        if !next.is_empty() {
            s.depth = next_depth;
        }
        frontier = next;
        publish(options, &s);
    }
    s
}

fn publish(options: &Options, s: &Search) {
    options.stats.distinct.store(s.distinct, Ordering::Relaxed);
    options.stats.generated.store(s.generated, Ordering::Relaxed);
    options.stats.depth.store(s.depth, Ordering::Relaxed);
}

fn should_stop(options: &Options, start: Instant, distinct: u64) -> Option<StopReason> {
    if options.stop.load(Ordering::Relaxed) {
        return Some(StopReason::Interrupted);
    }
    if let Some(reason) = super::memory::over_budget(options) {
        return Some(reason);
    }
    if let Some(t) = options.timeout {
        if start.elapsed() >= t {
            return Some(StopReason::Timeout(t));
        }
    }
    match options.max_states {
        Some(n) if distinct >= n => Some(StopReason::MaxStates(n)),
        _ => None,
    }
}

fn expand<S, V>(block: Vec<(Fingerprint, S)>, store: &mut [Shard], visitor: &V) -> Step<S>
where
    S: Clone + std::hash::Hash + Send + Sync,
    V: Visitor<S>,
{
    let threads = rayon::current_num_threads().max(1);
    let chunk = block.len().div_ceil(threads * 4).max(1);
    let store_ref: &[Shard] = store;
    type Part<S> = (Vec<Vec<Candidate<S>>>, u64, Vec<Fingerprint>);
    let expanded: Vec<Part<S>> = block
        .par_chunks(chunk)
        .map(|part| {
            let mut buckets: Vec<Vec<Candidate<S>>> = (0..SHARDS).map(|_| Vec::new()).collect();
            let mut generated = 0u64;
            let mut dead = Vec::new();
            let mut out = Vec::new();
            for (parent, state) in part {
                let (made, is_dead) = visitor.expand(*parent, state, &mut out);
                generated += made;
                if is_dead {
                    dead.push(*parent);
                }
                for (fp, next) in out.drain(..) {
                    let shard = shard_of(fp);
                    if !store_ref[shard].contains_key(&fp) {
                        buckets[shard].push(Candidate { fp, parent: *parent, state: next });
                    }
                }
            }
            (buckets, generated, dead)
        })
        .collect();
    drop(block);
    let mut step = Step { fresh: Vec::new(), generated: 0, dead: Vec::new(), findings: Vec::new() };
    let mut per_shard: Vec<Vec<Candidate<S>>> = (0..SHARDS).map(|_| Vec::new()).collect();
    for (buckets, generated, dead) in expanded {
        step.generated += generated;
        step.dead.extend(dead);
        for (shard, mut bucket) in buckets.into_iter().enumerate() {
            per_shard[shard].append(&mut bucket);
        }
    }
    type Merged<S> = (Vec<(Fingerprint, S)>, Vec<(usize, Fingerprint, Violation)>);
    let merged: Vec<Merged<S>> = store
        .par_iter_mut()
        .zip(per_shard.into_par_iter())
        .map(|(shard, mut candidates)| {
            // The smallest parent wins, whichever thread found it first.
            candidates.sort_unstable_by_key(|c| (c.fp, c.parent));
            let mut fresh = Vec::new();
            let mut findings = Vec::new();
            let mut last = None;
            for c in candidates {
                if last == Some(c.fp) {
                    continue;
                }
                last = Some(c.fp);
                shard.insert(c.fp, c.parent);
                for (i, v) in visitor.judge(&c.state) {
                    findings.push((i, c.fp, v));
                }
                fresh.push((c.fp, c.state));
            }
            (fresh, findings)
        })
        .collect();
    for (fresh, findings) in merged {
        step.fresh.extend(fresh);
        step.findings.extend(findings);
    }
    step
}

/// Keeps the first `keep` fresh states of a block (in their merge order,
/// which is the same for any thread count) and takes the others out of the
/// store again, with their findings: `--max-states N` stores exactly N.
/// Runs once per search, at the bound, never on the hot path.
fn keep_at_most<S>(step: &mut Step<S>, store: &mut [Shard], keep: usize) {
    let dropped: std::collections::HashSet<Fingerprint> = step.fresh.drain(keep.min(step.fresh.len())..).map(|(fp, _)| fp).collect();
    for fp in &dropped {
        store[shard_of(*fp)].remove(fp);
    }
    step.findings.retain(|(_, fp, _)| !dropped.contains(fp));
}

/// The fingerprints from an initial state to `fp`, through stored parents.
pub(crate) fn path_to(store: &[Shard], fp: Fingerprint) -> Vec<Fingerprint> {
    let mut fps = vec![fp];
    loop {
        let at = *fps.last().expect("non-empty");
        let parent = store[shard_of(at)][&at];
        if parent == at {
            break;
        }
        fps.push(parent);
    }
    fps.reverse();
    fps
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_use_bits_the_tables_do_not() {
        // hashbrown takes bucket bits from the bottom and tag bits from the top.
        assert_eq!(shard_of(0xFFFF_FF00_0000_00FF), 0);
        assert_eq!(shard_of(0x0000_0001_0000_0000), 1);
    }
}
