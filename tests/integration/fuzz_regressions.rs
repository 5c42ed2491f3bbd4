//! Every committed fuzz seed and regression, replayed through the same
//! library functions the fuzz targets call: none may panic.

use crate::repo;

fn replay(target: &str, run: fn(&[u8])) {
    let mut count = 0;
    for dir in ["seeds", "regressions"] {
        let dir = repo().join("fuzz").join(dir).join(target);
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        for entry in entries {
            let path = entry.unwrap().path();
            if path.is_file() {
                run(&std::fs::read(&path).unwrap());
                count += 1;
            }
        }
    }
    assert!(count > 0, "fuzz target {target} has no committed seeds");
}

#[test]
fn cfg_seeds_and_regressions_do_not_panic() {
    replay("cfg", tracewright::fuzzing::cfg);
}

#[test]
fn tla_seeds_and_regressions_do_not_panic() {
    replay("tla", tracewright::fuzzing::tla);
}

#[test]
fn trace_seeds_and_regressions_do_not_panic() {
    replay("trace", tracewright::fuzzing::trace);
}

#[test]
fn otlp_seeds_and_regressions_do_not_panic() {
    replay("otlp", tracewright::fuzzing::otlp);
}

#[test]
fn corpus_seeds_and_regressions_do_not_panic() {
    replay("corpus", tracewright::fuzzing::corpus);
}

/// The structure-aware seeds reach 200,000 levels of nesting in a few bytes.
#[test]
fn nesting_seeds_expand_past_every_depth_limit() {
    let seed = std::fs::read(crate::repo().join("fuzz/seeds/cfg/deep-sets")).unwrap();
    let text = tracewright::fuzzing::expand_nesting(&seed, &[("{", "}")]);
    assert_eq!(text.iter().filter(|&&b| b == b'{').count(), 200_000);
    assert!(text.starts_with(b"CONSTANTS\n  X = {{{") && text.ends_with(b"}}}\nINIT Init\nNEXT Next\n"));
}

#[test]
fn traceparent_seeds_and_regressions_do_not_panic() {
    replay("traceparent", tracewright::fuzzing::traceparent);
}

#[test]
fn tracestate_seeds_and_regressions_do_not_panic() {
    replay("tracestate", tracewright::fuzzing::tracestate);
}

#[test]
fn model_actions_seeds_and_regressions_do_not_panic() {
    replay("model_actions", tracewright::fuzzing::model_actions);
}

/// Every trace-context trace under `traces/` is a committed seed, byte for
/// byte what `tracewright fuzz-seeds` writes, and decodes back to the
/// trace's own actions.
#[test]
fn every_trace_is_a_model_actions_seed_that_decodes_to_its_actions() {
    use tracewright::fuzzing::model_actions::{labels_of, Configs, Input};
    let dirs = [repo().join("traces"), repo().join("traces/conform")];
    let seeds = tracewright::cli::fuzz_seeds::seeds(&dirs).unwrap();
    let configs = Configs::load(&repo().join("specs")).unwrap();
    let committed = repo().join("fuzz/seeds/model_actions");
    let mut trace_context = 0;
    for dir in &dirs {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            if name.starts_with("TraceContext.") && name.ends_with(".itf.json") {
                trace_context += 1;
                let doc = tracewright::trace::TraceDoc::read(&path).unwrap();
                let stem = name.strip_suffix(".itf.json").unwrap();
                let (_, seed) = seeds.iter().find(|(n, _)| n == stem).unwrap_or_else(|| panic!("no seed for {name}"));
                let on_disk = std::fs::read(committed.join(stem)).unwrap_or_default();
                assert_eq!(&on_disk, seed, "fuzz/seeds/model_actions/{stem} is stale or missing: run `cargo run --release -- fuzz-seeds`");
                let input = Input::decode(seed).expect("a seed decodes");
                let actions: Vec<String> = doc.steps.iter().filter_map(|s| s.action.clone()).collect();
                assert_eq!(labels_of(&configs, &input).unwrap(), actions, "{name}");
            }
        }
    }
    assert_eq!(seeds.len(), trace_context);
    assert!(trace_context >= 18);
}

mod model_actions_judges {
    use tracewright::error::Result;
    use tracewright::fuzzing::model_actions::{run, Configs, Outcome};
    use tracewright::sut::sdk::{self as sut, FinishedSpan, RustSdk, Sdk};

    use crate::repo;

    fn seed(name: &str) -> Vec<u8> {
        std::fs::read(repo().join("fuzz/seeds/model_actions").join(name)).unwrap()
    }

    /// The Rust SDK with one seeded bug: it reports the first span it
    /// exported twice, as an exporter that retries a batch the backend had
    /// taken would.
    struct ExportsTwice(RustSdk);

    impl Sdk for ExportsTwice {
        fn hello(&mut self) -> Result<sut::Hello> { self.0.hello() }
        fn configure(&mut self, s: &[sut::ServiceConfig]) -> Result<()> { self.0.configure(s) }
        fn start_span(&mut self, r: &sut::StartSpan) -> Result<sut::StartedSpan> { self.0.start_span(r) }
        fn inject(&mut self, r: &sut::Inject) -> Result<sut::Injected> { self.0.inject(r) }
        fn extract(&mut self, r: &sut::Extract) -> Result<sut::Extracted> { self.0.extract(r) }
        fn end_span(&mut self, s: &str) -> Result<()> { self.0.end_span(s) }
        fn spans(&mut self) -> Result<Vec<FinishedSpan>> {
            let mut spans = self.0.spans()?;
            if let Some(first) = spans.first().cloned() {
                spans.push(first);
            }
            Ok(spans)
        }
        fn reset(&mut self) -> Result<()> { self.0.reset() }
        fn shutdown(&mut self) -> Result<()> { self.0.shutdown() }
        fn raw(&mut self, l: &str) -> Result<serde_json::Value> { self.0.raw(l) }
    }

    /// A fault config's counterexample (the model holds no bug): the real
    /// SDK does what the model does, so the oracle agrees; the SDK that
    /// exports a span twice is caught by the oracle, not by the steps.
    #[test]
    fn the_oracle_passes_the_real_sdk_and_catches_one_exporting_twice() {
        let configs = Configs::load(&repo().join("specs")).unwrap();
        let data = seed("TraceContext.fault_ExportRetry.NoDuplicateSpans.5345ee7a");
        let none = |_: &str| false;
        let real = run(&configs, &mut RustSdk::new(), &data, &none).unwrap();
        assert!(matches!(real, Outcome::Agrees), "{real:?}");
        let twice = run(&configs, &mut ExportsTwice(RustSdk::new()), &data, &none).unwrap();
        match twice {
            Outcome::Finding(what) => assert!(what.starts_with("oracle/NoDuplicateSpans"), "{what}"),
            other => panic!("the duplicate export went unseen: {other:?}"),
        }
    }

    /// A divergence `conform` found on the Rust SDK is accepted while the
    /// expectations list its class, and is a finding when they do not.
    #[test]
    fn a_divergence_is_a_finding_unless_the_expectations_accept_it() {
        let configs = Configs::load(&repo().join("specs")).unwrap();
        let data = seed("TraceContext.conform.Conformance-rust.ecce1ad7");
        let accepted = run(&configs, &mut RustSdk::new(), &data, &|_: &str| true).unwrap();
        assert!(matches!(&accepted, Outcome::Expected(c) if c == "traceparent/accepts-invalid/WrongLength"), "{accepted:?}");
        let new = run(&configs, &mut RustSdk::new(), &data, &|_: &str| false).unwrap();
        assert!(matches!(&new, Outcome::Finding(w) if w.contains("traceparent/accepts-invalid/WrongLength")), "{new:?}");
    }

    /// A seeded-bug config's walk runs (nothing may panic) but is not
    /// judged: its model is wrong on purpose. Nor is one with ratio sampling.
    #[test]
    fn a_seeded_bug_config_runs_unjudged() {
        let configs = Configs::load(&repo().join("specs")).unwrap();
        let data = seed("TraceContext.bug_NoInjection.TraceIdPreserved.f6f21fd3");
        let outcome = run(&configs, &mut RustSdk::new(), &data, &|_: &str| false).unwrap();
        assert!(matches!(outcome, Outcome::Ran), "{outcome:?}");
        // Ratio sampling: the model's parity rule and the SDK's random id
        // agree on a root only by chance (the fuzzer's second finding).
        let ratio = std::fs::read(repo().join("fuzz/regressions/model_actions/ratio-sampled-root-decided-by-a-random-id")).unwrap();
        for _ in 0..8 {
            let outcome = run(&configs, &mut RustSdk::new(), &ratio, &|_: &str| false).unwrap();
            assert!(matches!(outcome, Outcome::Ran), "{outcome:?}");
        }
        // Too short to name a config, or naming none: skipped.
        assert!(matches!(run(&configs, &mut RustSdk::new(), b"", &|_: &str| false).unwrap(), Outcome::Skipped));
        assert!(matches!(run(&configs, &mut RustSdk::new(), b"\x03nope\x00", &|_: &str| false).unwrap(), Outcome::Skipped));
    }
}

#[test]
fn b3_seeds_and_regressions_do_not_panic() {
    replay("b3", tracewright::fuzzing::b3);
}
