//! Tests across the module: the specification's own examples, and a
//! deterministic stream of generated inputs that every parser must survive.
//! The per-rule tests sit beside the parser they judge.

use super::examples::{self, Origin};
use super::*;

const LEVELS: [Level; 2] = [Level::Level1, Level::Level2];

#[test]
fn level_2_is_the_default_and_defines_one_more_flag() {
    assert_eq!(Level::default(), Level::Level2);
    assert_eq!(Level::Level1.known_flags(), FLAG_SAMPLED);
    assert_eq!(Level::Level2.known_flags(), FLAG_SAMPLED | FLAG_RANDOM);
    assert_eq!(Level::Level1.name(), "Level 1");
}

#[test]
fn every_spec_traceparent_example_gets_its_verdict() {
    assert!(examples::TRACEPARENTS.iter().any(|e| e.expected.is_err()));
    for example in examples::TRACEPARENTS {
        for level in LEVELS {
            let got = parse_traceparent(example.value, level);
            assert_eq!(
                got, example.expected,
                "{} at {level:?} ({:?})",
                example.value, example.origin
            );
            if let Ok(parent) = got {
                assert_eq!(parent.to_header(), example.value, "canonical form of a spec example");
            }
        }
    }
}

#[test]
fn the_spec_examples_read_their_flags_as_the_text_says() {
    let flags = |value: &str| {
        let parent = parse_traceparent(value, Level::Level2).expect("spec example");
        (parent.sampled(), parent.random())
    };
    let sample = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7";
    assert_eq!(flags(&format!("{sample}-01")), (true, false));
    assert_eq!(flags(&format!("{sample}-00")), (false, false));
    assert_eq!(flags(&format!("{sample}-03")), (true, true));
    assert_eq!(flags(&format!("{sample}-02")), (false, true));
    assert_eq!(flags(&format!("{sample}-09")), (true, false));
}

#[test]
fn every_spec_tracestate_example_gets_its_verdict() {
    let all = examples::tracestates();
    assert!(all.iter().any(|e| e.level1 != e.level2), "the levels differ on at least one example");
    for example in &all {
        assert_eq!(
            parse_tracestate(example.values, Level::Level1),
            example.level1,
            "{:?}",
            example.values
        );
        assert_eq!(
            parse_tracestate(example.values, Level::Level2),
            example.level2,
            "{:?}",
            example.values
        );
    }
}

#[test]
fn every_example_says_where_it_comes_from() {
    let origins = examples::TRACEPARENTS
        .iter()
        .map(|e| e.origin)
        .chain(examples::tracestates().into_iter().map(|e| e.origin));
    for origin in origins {
        let section = match origin {
            Origin::Verbatim { section } => section,
            Origin::Derived { section, change } => {
                assert!(!change.is_empty());
                section
            }
        };
        assert!(!section.is_empty());
    }
}

/// SplitMix64: a few lines, no dependency, and the same stream on every run,
/// so a failure here reproduces by rerunning the test.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        // n is small, so the modulo bias is irrelevant here.
        (self.next() % n.max(1) as u64) as usize
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())]
    }
}

/// Characters that matter to some rule, plus a few that matter to none: the
/// separators, both hex cases, OWS and its look-alikes, the value range's
/// edges, and multi-byte characters to catch byte/char confusion.
const ALPHABET: &[char] = &[
    '0', '1', '9', 'a', 'f', 'A', 'F', 'g', 'z', '-', '_', '*', '/', '@', '=', ',', ' ', '\t',
    '\n', '\r', '.', '~', '\u{0}', '\u{7f}', 'é', '€', '😀', '\u{feff}',
];

const SEEDS: &[&str] = &[
    "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
    "cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-ff-future",
    "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE",
    "t@v=1, ,a1@b-c/d*=x y",
];

/// A random string from the alphabet, or a seed with a few random edits.
fn generate(rng: &mut Rng) -> String {
    if rng.below(3) == 0 {
        let len = if rng.below(10) == 0 { rng.below(600) } else { rng.below(70) };
        return (0..len).map(|_| rng.pick(ALPHABET)).collect();
    }
    let mut chars: Vec<char> = rng.pick(SEEDS).chars().collect();
    for _ in 0..=rng.below(4) {
        let at = rng.below(chars.len() + 1);
        match rng.below(3) {
            0 => chars.insert(at, rng.pick(ALPHABET)),
            1 if at < chars.len() => {
                chars.remove(at);
            }
            _ if at < chars.len() => chars[at] = rng.pick(ALPHABET),
            _ => chars.push(rng.pick(ALPHABET)),
        }
    }
    chars.into_iter().collect()
}

/// `s` cut in two at a character boundary, as if it arrived in two fields.
fn split_in_two<'a>(s: &'a str, rng: &mut Rng) -> [&'a str; 2] {
    let mut at = rng.below(s.len() + 1);
    while !s.is_char_boundary(at) {
        at -= 1;
    }
    [&s[..at], &s[at..]]
}

/// Nothing a peer sends may panic a parser, and whatever a parser accepts
/// must survive being written back out and read again unchanged.
#[test]
fn generated_inputs_never_panic_and_accepted_ones_round_trip() {
    let mut rng = Rng(0x7ace_5eed);
    let (mut parents_ok, mut parents_err, mut states_ok, mut states_discarded) = (0, 0, 0, 0);
    for _ in 0..20_000 {
        let s = generate(&mut rng);
        let halves = split_in_two(&s, &mut rng);
        for level in LEVELS {
            match parse_traceparent(&s, level) {
                Ok(parent) => {
                    parents_ok += 1;
                    let answered = TraceParent { version: 0, ..parent };
                    assert_eq!(
                        parse_traceparent(&parent.to_header(), level),
                        Ok(answered),
                        "{s:?}"
                    );
                }
                Err(error) => {
                    parents_err += 1;
                    assert!(!error.rule().is_empty());
                }
            }
            for values in [&[s.as_str()][..], &halves[..]] {
                let outcome = parse_tracestate(values, level);
                match outcome.state() {
                    Some(state) if !state.is_empty() => {
                        states_ok += 1;
                        let again = parse_tracestate(&[&state.to_header()], level);
                        assert_eq!(again, TraceStateOutcome::Kept(state.clone()), "{values:?}");
                    }
                    Some(_) => {}
                    None => states_discarded += 1,
                }
            }
            let one = extract(&[&s], &halves, level);
            assert_eq!(one.trace.parent().is_some(), parse_traceparent(&s, level).is_ok());
            let two = extract(&halves, &[&s], level);
            assert!(two.trace.parent().is_none(), "two traceparent fields never continue a trace");
        }
    }
    // The stream must reach both sides of each parser, or it proves little.
    for (what, count) in [
        ("valid traceparents", parents_ok),
        ("invalid traceparents", parents_err),
        ("kept tracestates", states_ok),
        ("discarded tracestates", states_discarded),
    ] {
        assert!(count > 100, "only {count} {what} were generated");
    }
}
