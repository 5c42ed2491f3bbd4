//! Entry points for the fuzz targets under `fuzz/`: each takes arbitrary
//! bytes and drives one input path of the tool end to end. Hostile bytes may
//! be refused with an error, never with a panic. The targets are one-line
//! calls into these functions, and `tests/` replays every committed fuzz
//! regression through the same functions, so no fuzz body is ever copied.

pub mod model_actions;

use std::path::Path;

use crate::spec::cfg::Cfg;
use crate::spec::tla::Module;
use crate::trace::TraceDoc;

/// Structure-aware depth for the parser targets. libFuzzer's inputs are
/// short (`-max_len`, 4096 bytes by default), too short to nest past the
/// parsers' depth limits; an input that starts with `0xFF` is instead
///
/// `0xFF, n_hi, n_lo, pick, prefix [0xFE middle [0xFE suffix]]`
///
/// and stands for `prefix`, the bracket pair `pairs[pick]` opened `4·n`
/// times (up to 262,140), `middle`, the pair closed as often, `suffix`: a
/// few bytes reach any depth the limits guard against. Any other input is
/// taken as it is.
pub fn expand_nesting<'a>(data: &'a [u8], pairs: &[(&str, &str)]) -> std::borrow::Cow<'a, [u8]> {
    let [0xFF, hi, lo, pick, rest @ ..] = data else { return std::borrow::Cow::Borrowed(data) };
    let n = 4 * (usize::from(*hi) << 8 | usize::from(*lo));
    let (open, close) = pairs[usize::from(*pick) % pairs.len()];
    let mut parts = rest.splitn(3, |&b| b == 0xFE);
    let (prefix, middle, suffix) = (parts.next().unwrap_or_default(), parts.next().unwrap_or_default(), parts.next().unwrap_or_default());
    let mut out = Vec::with_capacity(rest.len() + n * (open.len() + close.len()));
    out.extend_from_slice(prefix);
    for _ in 0..n {
        out.extend_from_slice(open.as_bytes());
    }
    out.extend_from_slice(middle);
    for _ in 0..n {
        out.extend_from_slice(close.as_bytes());
    }
    out.extend_from_slice(suffix);
    std::borrow::Cow::Owned(out)
}

/// A `.cfg` file: the byte checks every input file gets, then parsed and
/// its expectations validated.
pub fn cfg(data: &[u8]) {
    let data = expand_nesting(data, &[("{", "}"), ("{\n", "}\n"), ("(*", "*)"), ("{1,", "}")]);
    let Ok(text) = crate::input::text_of(Path::new("fuzz.cfg"), data.into_owned(), &crate::input::CFG, crate::error::Error::Spec) else { return };
    let _ = Cfg::parse(Path::new("fuzz.cfg"), &text);
}

/// A `.tla` module: parsed, then every zero-argument definition evaluated as
/// a constant, as a `<-` substitution would.
pub fn tla(data: &[u8]) {
    let data = expand_nesting(data, &[("<<", ">>"), ("(", ")"), ("[a |-> ", "]"), ("{", "}"), ("(*", "*)"), ("<<\n", ">>\n")]);
    let Ok(text) = crate::input::text_of(Path::new("Fuzz.tla"), data.into_owned(), &crate::input::TLA, crate::error::Error::Spec) else { return };
    let Ok(module) = Module::parse(Path::new("Fuzz.tla"), text.to_string()) else { return };
    for (name, def) in &module.definitions {
        if def.arity == 0 {
            let _ = module.evaluate(name);
        }
    }
}

/// A trace file: parsed, its model rebuilt from the recorded constants, then
/// replayed and rendered as text and Mermaid.
pub fn trace(data: &[u8]) {
    let path = Path::new("fuzz.itf.json");
    let data = expand_nesting(data, JSON_PAIRS);
    let Ok(text) = crate::input::text_of(path, data.into_owned(), &crate::input::TRACE, crate::error::Error::Trace) else { return };
    let Ok(doc) = TraceDoc::parse(path, &text) else { return };
    let Some(model) = crate::engine::find(&doc.spec) else { return };
    let _ = model.replay(&doc, path);
    let _ = model.show(&doc, path, false);
    let _ = model.show(&doc, path, true);
}

const JSON_PAIRS: &[(&str, &str)] = &[("[", "]"), ("{\"a\":", "}"), ("{\"#set\":[", "]}"), ("{\"#tup\":[", "]}"), ("[1,", "]")];

/// OTLP JSON as `audit` reads it: the byte checks, the bounds, the request
/// stream, and the span invariants judged over whatever spans it held.
pub fn otlp(data: &[u8]) {
    let path = Path::new("fuzz.json");
    let data = expand_nesting(data, JSON_PAIRS);
    let Ok(text) = crate::input::text_of(path, data.into_owned(), &crate::input::OTLP, crate::error::Error::Spec) else { return };
    if let Ok(rows) = crate::otlp::json::parse(path, &text, true) {
        let _ = crate::audit::judge(&rows);
    }
}

/// A `conform --corpus` case file and an expectations file: both JSON, both
/// bounded, read by their own parsers.
pub fn corpus(data: &[u8]) {
    let path = Path::new("fuzz.json");
    let data = expand_nesting(data, JSON_PAIRS);
    let Ok(text) = crate::input::text_of(path, data.into_owned(), &crate::input::CORPUS_CASE, crate::error::Error::Corpus) else { return };
    let _ = crate::conformance::corpus::parse_case(path, &text);
    let _ = crate::expectations::Expectations::parse(path, &text);
}

/// A walk of the trace-context model run in lockstep on the model and on the
/// in-process Rust SDK, judged step by step and by the span oracle
/// ([`model_actions`] has the input format). Panics on a divergence whose
/// class `conformance/expectations.json` does not accept for sut `rust`, or
/// when the oracle judges the SDK's exported spans otherwise than the
/// model's.
pub fn model_actions(data: &[u8]) {
    // A static, not a thread local: the SDK's provider must outlive the
    // thread-local storage its shutdown uses, and a static is never dropped.
    static TARGET: std::sync::OnceLock<std::sync::Mutex<model_actions::Target>> = std::sync::OnceLock::new();
    let harness = harness();
    let expected = |class: &str| harness.expectations.expected(crate::differential::SUT, class).is_some();
    let target = TARGET.get_or_init(|| std::sync::Mutex::new(model_actions::Target::new()));
    // A panic while the lock is held is a finding already reported; the
    // target stays usable for the tests that replay seeds after one.
    let outcome = target.lock().unwrap_or_else(std::sync::PoisonError::into_inner).run(data, &expected);
    if let model_actions::Outcome::Finding(what) = outcome {
        panic!(
            "model_actions: {what}\n  (hint: `tracewright fuzz-seeds` documents the input format; \
             minimise with `cargo fuzz tmin model_actions INPUT` and commit it under \
             fuzz/regressions/model_actions/)"
        );
    }
}

/// The W3C propagators, differentially: one carrier built from `data`, judged
/// by the strict reference and run through the Rust SDK's
/// `TraceContextPropagator` ([`crate::differential`]). Structure-aware inputs
/// aim at `traceparent`: each value is assembled from grammar pieces (OWS,
/// versions, hex ids of boundary lengths, separators, flags, trailers) that
/// the bytes choose and mutate. Panics on a disagreement whose class
/// `conformance/expectations.json` does not list for sut `rust`.
pub fn traceparent(data: &[u8]) {
    differential_input(data, carriers::traceparent);
}

/// As [`traceparent`], with structure-aware inputs aimed at `tracestate`: a
/// valid `traceparent`, and lists of up to 40 members over up to three field
/// lines, with keys and values of boundary lengths, multi-tenant keys,
/// duplicates, empty members and illegal characters.
pub fn tracestate(data: &[u8]) {
    differential_input(data, carriers::tracestate);
}

/// The harness both differential targets share: an input that starts with
/// `t` is a carrier in header lines (the readable seeds), any other is read as
/// choices by `build`.
fn differential_input(data: &[u8], build: fn(&mut carriers::Choices<'_>, &mut carriers::Built<'_>)) {
    if data.first() == Some(&b't') {
        let Ok(text) = std::str::from_utf8(data) else { return };
        let mut fields = carriers::Fields::default();
        let read = crate::differential::for_each_header_line(text, |header, value| {
            fields.push(header, value);
        });
        if read.is_ok() && !fields.overflowed {
            judge(fields.carrier());
        }
        return;
    }
    thread_local! {
        /// Reused between inputs: the fuzzers run this hundreds of thousands
        /// of times a second, and an allocation is dear under ASan.
        static TEXT: std::cell::RefCell<String> = std::cell::RefCell::new(String::with_capacity(4096));
    }
    TEXT.with_borrow_mut(|text| {
        text.clear();
        let mut built = carriers::Built::new(text);
        build(&mut carriers::Choices::new(data.get(1..).unwrap_or_default()), &mut built);
        judge(built.fields().carrier());
    });
}

struct Harness {
    differential: crate::differential::Differential,
    expectations: crate::expectations::Expectations,
    /// `TRACEWRIGHT_FUZZ_STOP_AT`: a class to panic on although it is
    /// accepted, so that `cargo fuzz tmin` can minimise an input showing it
    /// (the regressions under `fuzz/regressions/` were made so):
    ///
    ///     TRACEWRIGHT_FUZZ_STOP_AT=tracestate/truncates/discard \
    ///       cargo fuzz tmin -O -a tracestate INPUT
    stop_at: Option<String>,
}

fn harness() -> &'static Harness {
    static HARNESS: std::sync::OnceLock<Harness> = std::sync::OnceLock::new();
    HARNESS.get_or_init(|| Harness {
        differential: crate::differential::Differential::new(),
        expectations: crate::expectations::Expectations::parse(
            Path::new(crate::expectations::DEFAULT_PATH),
            include_str!("../conformance/expectations.json"),
        )
        // The file is part of the build, and tests load it too.
        .expect("conformance/expectations.json is valid"),
        stop_at: std::env::var("TRACEWRIGHT_FUZZ_STOP_AT").ok(),
    })
}

/// Panics on the first disagreement that is not an accepted one, so that
/// libFuzzer saves the input; the message is the whole report. The classes
/// alone are computed first, and the words only for a new one.
fn judge(carrier: crate::headers::CarrierRef<'_>) {
    let harness = harness();
    let sut = crate::differential::SUT;
    let stop = |class: &str| {
        harness.expectations.expected(sut, class).is_none()
            || harness.stop_at.as_deref() == Some(class)
    };
    let mut new = false;
    harness.differential.classify(carrier, |class, _| new |= stop(class.as_str()));
    if !new {
        return;
    }
    let verdict = harness.differential.compare(carrier);
    if let Some(found) = verdict.disagreements().iter().find(|d| stop(d.class.as_str())) {
        if harness.expectations.expected(sut, found.class.as_str()).is_some() {
            panic!("stopping at an accepted class (TRACEWRIGHT_FUZZ_STOP_AT):\n{found}");
        }
        panic!(
            "new disagreement, not in {} for sut {sut:?}:\n{found}\n  \
             (hint: minimise with `cargo fuzz tmin`, commit the input under \
             fuzz/regressions/, and either fix the SUT or add the class with its \
             rule, an example and why it is understood)",
            crate::expectations::DEFAULT_PATH
        );
    }
}

/// Structure-aware carriers: bytes read as choices among grammar pieces.
/// Every choice past the end of the input reads as 0, and choice 0 is the
/// ordinary, valid option, so short inputs give well-formed headers and each
/// byte added moves one piece off the beaten path.
mod carriers {
    use crate::differential::Header;
    use crate::headers::CarrierRef;

    /// At most this many field lines of each header are kept; an input with
    /// more is skipped rather than cut, so that what is judged is the input.
    const MAX_FIELDS: usize = 8;

    pub struct Choices<'a> {
        data: &'a [u8],
    }

    impl<'a> Choices<'a> {
        pub fn new(data: &'a [u8]) -> Choices<'a> {
            Choices { data }
        }

        fn byte(&mut self) -> u8 {
            match self.data.split_first() {
                Some((&b, rest)) => {
                    self.data = rest;
                    b
                }
                None => 0,
            }
        }

        fn below(&mut self, n: usize) -> usize {
            usize::from(self.byte()) % n.max(1)
        }

        fn pick<T: Copy>(&mut self, items: &[T]) -> T {
            items[self.below(items.len())]
        }
    }

    /// Field values built into one string, with their places.
    pub struct Built<'t> {
        pub text: &'t mut String,
        fields: [(Header, usize, usize); 2 * MAX_FIELDS],
        count: usize,
    }

    impl<'t> Built<'t> {
        pub fn new(text: &'t mut String) -> Built<'t> {
            Built { text, fields: [(Header::TraceParent, 0, 0); 2 * MAX_FIELDS], count: 0 }
        }

        /// Ends a field value that started at byte `start` of the text.
        fn end_field(&mut self, header: Header, start: usize) {
            if let Some(slot) = self.fields.get_mut(self.count) {
                *slot = (header, start, self.text.len());
                self.count += 1;
            }
        }

        fn field(&mut self, header: Header, build: impl FnOnce(&mut String)) {
            let start = self.text.len();
            build(self.text);
            self.end_field(header, start);
        }

        pub fn fields(&self) -> Fields<'_> {
            let mut fields = Fields::default();
            for &(header, start, end) in &self.fields[..self.count] {
                fields.push(header, self.text.get(start..end).unwrap_or_default());
            }
            fields
        }
    }

    /// The field values of one carrier, without a heap allocation.
    #[derive(Default)]
    pub struct Fields<'a> {
        traceparent: [&'a str; MAX_FIELDS],
        traceparents: usize,
        tracestate: [&'a str; MAX_FIELDS],
        tracestates: usize,
        pub overflowed: bool,
    }

    impl<'a> Fields<'a> {
        pub fn push(&mut self, header: Header, value: &'a str) {
            let (values, count) = match header {
                Header::TraceParent => (&mut self.traceparent, &mut self.traceparents),
                Header::TraceState => (&mut self.tracestate, &mut self.tracestates),
            };
            match values.get_mut(*count) {
                Some(slot) => {
                    *slot = value;
                    *count += 1;
                }
                None => self.overflowed = true,
            }
        }

        pub fn carrier(&self) -> CarrierRef<'_> {
            CarrierRef::new(
                &self.traceparent[..self.traceparents],
                &self.tracestate[..self.tracestates],
            )
        }
    }

    /// Characters that matter to some rule or that a lenient parser might
    /// forgive: separators, both hex cases, HTTP OWS and the whitespace only
    /// Unicode counts, signs a number parser accepts, and multi-byte
    /// characters to catch byte/char confusion.
    const NASTY: &[&str] = &[
        "-", "_", " ", "\t", "\n", "\r", "\u{b}", "\u{c}", "\u{a0}", "\u{85}", "\u{3000}",
        "\u{feff}", "+", "G", "A", "F", ".", ",", "=", "\0", "é", "😀", "\u{7f}", "@", "0",
    ];

    const HEX_DIGITS: &[u8; 16] = b"0123456789abcdef";
    const KEYCHARS: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789_-*/";
    const LCALPHA: &[u8] = b"abcdefghijklmnopqrstuvwxyz";
    /// Printable ASCII but `,` and `=`: every character a value may hold.
    const VALUE_CHARS: &[u8] =
        b" !\"#$%&'()*+-./0123456789:;<>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~";

    /// A run long enough to cut any key, value or id from, made at compile
    /// time from `alphabet` in an order that visits every character, so that
    /// one byte of input (the offset) buys a run of any length as one copy.
    const fn run<const N: usize>(alphabet: &[u8]) -> [u8; N] {
        let mut out = [0u8; N];
        let mut i = 0;
        while i < N {
            out[i] = alphabet[(i * 7 + i / alphabet.len()) % alphabet.len()];
            i += 1;
        }
        out
    }

    const RUN_LEN: usize = 600;
    static HEX_RUN: [u8; RUN_LEN] = run(HEX_DIGITS);
    static KEY_RUN: [u8; RUN_LEN] = run(KEYCHARS);
    static VALUE_RUN: [u8; RUN_LEN] = run(VALUE_CHARS);
    static ZERO_RUN: [u8; RUN_LEN] = run(b"0");
    static F_RUN: [u8; RUN_LEN] = run(b"f");

    /// `len` (at most 300) characters of `run`, from an offset `seed` picks.
    fn fill(s: &mut String, len: usize, run: &[u8; RUN_LEN], seed: u8) {
        let start = usize::from(seed);
        let piece = run.get(start..start + len.min(RUN_LEN - 256)).unwrap_or_default();
        // The runs are ASCII.
        s.push_str(std::str::from_utf8(piece).unwrap_or_default());
    }

    fn push_hex_byte(s: &mut String, b: u8) {
        s.push(char::from(HEX_DIGITS[usize::from(b >> 4)]));
        s.push(char::from(HEX_DIGITS[usize::from(b & 0x0f)]));
    }

    // ---- traceparent -------------------------------------------------------

    const SAMPLE_TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
    const CONGO_TRACE: &str = "0af7651916cd43dd8448eb211c80319c";
    const SAMPLE_PARENT: &str = "00f067aa0ba902b7";
    const CONGO_PARENT: &str = "b7ad6b7169203331";

    /// Zero to three `traceparent` values from the grammar pieces, with one of
    /// a few fixed `tracestate`s (the `tracestate` target varies those).
    pub fn traceparent(ch: &mut Choices<'_>, out: &mut Built<'_>) {
        let fields = match ch.below(16) {
            13 => 0,
            14 => 2,
            15 => 3,
            _ => 1,
        };
        for _ in 0..fields {
            out.field(Header::TraceParent, |s| traceparent_value(ch, s));
        }
        let tracestate: &[&str] = ch.pick(&[
            &["congo=t61rcWkgMzE"],
            &["congo=t61rcWkgMzE"],
            &["rojo=00f067aa0ba902b7,congo=t61rcWkgMzE"],
            &[],
            &[""],
            &["foo=1", "bar=2"],
            &["foo=1,foo=2"],
            &["FOO=1"],
        ]);
        for value in tracestate {
            out.field(Header::TraceState, |s| s.push_str(value));
        }
    }

    fn traceparent_value(ch: &mut Choices<'_>, s: &mut String) {
        let start = s.len();
        s.push_str(ch.pick(&["", "", "", "", " ", "\t", " \t", "\u{a0}", "\n", "\r"]));
        match ch.below(24) {
            0..=9 => s.push_str("00"),
            10 => s.push_str("01"),
            11 => s.push_str("cc"),
            12 => s.push_str("fe"),
            13 => s.push_str("ff"),
            14 => s.push_str(ch.pick(&["0A", "Cc", "FF", "0F"])),
            15 => s.push_str(ch.pick(&["0", "000", "", "+0", "+1", "0g", "\u{0}0", "é"])),
            _ => push_hex_byte(s, ch.byte()),
        }
        separator(ch, s);
        id(ch, s, 32, &[SAMPLE_TRACE, CONGO_TRACE]);
        separator(ch, s);
        id(ch, s, 16, &[SAMPLE_PARENT, CONGO_PARENT]);
        separator(ch, s);
        match ch.below(16) {
            0..=9 => push_hex_byte(s, ch.pick(&[0x01, 0x00, 0x03, 0x02, 0x09, 0xff, 0x80, 0x01])),
            10..=12 => push_hex_byte(s, ch.byte()),
            _ => s.push_str(ch.pick(&["0", "001", "+1", "0A", "Ff", "g1", "", "1-", "01 1"])),
        }
        match ch.below(16) {
            0..=9 => {}
            10 => s.push('-'),
            11 => s.push_str("-what-the-future-will-be-like"),
            12 => s.push_str(ch.pick(&[".", "0", "--", "-0-", " -", ".what-the-future"])),
            _ => s.push_str(ch.pick(NASTY)),
        }
        s.push_str(ch.pick(&["", "", "", "", " ", "\t", "\t ", "\r", "\n", "\u{3000}"]));
        // One more edit anywhere, as a mutation the grammar pieces miss.
        if ch.below(4) == 3 {
            let len = s.len() - start;
            let mut at = start + ch.below(len + 1);
            while !s.is_char_boundary(at) {
                at -= 1;
            }
            let with = ch.pick(NASTY);
            if ch.below(2) == 0 || at == s.len() {
                s.insert_str(at, with);
            } else {
                let end = (at + 1..=s.len()).find(|&e| s.is_char_boundary(e)).unwrap_or(s.len());
                s.replace_range(at..end, with);
            }
        }
    }

    fn separator(ch: &mut Choices<'_>, s: &mut String) {
        match ch.below(32) {
            0..=27 => s.push('-'),
            _ => s.push_str(ch.pick(&["", "_", "--", " ", "+", "- "])),
        }
    }

    /// A hex id of `digits` characters, then perhaps one mutation of it.
    fn id(ch: &mut Choices<'_>, s: &mut String, digits: usize, samples: &[&str]) {
        let start = s.len();
        match ch.below(8) {
            0..=2 => s.push_str(samples[ch.below(samples.len())]),
            3 => {
                for _ in 0..digits / 2 {
                    push_hex_byte(s, ch.byte());
                }
            }
            4 => fill(s, digits, &ZERO_RUN, 0),
            5 => {
                fill(s, digits - 2, &ZERO_RUN, 0);
                push_hex_byte(s, ch.byte());
            }
            6 => fill(s, digits, &HEX_RUN, ch.byte()),
            _ => fill(s, digits, &F_RUN, 0),
        }
        match ch.below(16) {
            0..=8 => {}
            9 => {
                let cut = 1 + ch.below(3);
                s.truncate(s.len() - cut);
            }
            10 => {
                let zeros = 1 + ch.below(3);
                s.insert_str(start, &"000"[..zeros]);
            }
            11 => fill(s, 1 + ch.below(3), &HEX_RUN, ch.byte()),
            12 => {
                let at = start + ch.below(digits);
                let upper = s.as_bytes()[at].to_ascii_uppercase();
                let upper = if upper.is_ascii_digit() { b'A' } else { upper };
                s.replace_range(at..at + 1, std::str::from_utf8(&[upper]).unwrap_or("A"));
            }
            13 => {
                let at = start + ch.below(digits);
                s.replace_range(at..at + 1, ch.pick(NASTY));
            }
            14 => s.insert(start, '+'),
            _ => s.truncate(start),
        }
    }

    // ---- tracestate --------------------------------------------------------

    /// A valid `traceparent` (now and then none, two, or an invalid one) and
    /// `tracestate` field lines from the list grammar.
    pub fn tracestate(ch: &mut Choices<'_>, out: &mut Built<'_>) {
        match ch.below(16) {
            0..=12 => out.field(Header::TraceParent, |s| {
                s.push_str(ch.pick(&[
                    "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-",
                    "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-",
                    "cc-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-",
                ]));
                push_hex_byte(s, ch.pick(&[0x01, 0x01, 0x00, 0x03, 0x02]));
            }),
            13 => {}
            14 => {
                for _ in 0..2 {
                    out.field(Header::TraceParent, |s| {
                        s.push_str("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
                    });
                }
            }
            _ => out.field(Header::TraceParent, |s| {
                s.push_str("00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01");
            }),
        }
        let fields = match ch.below(8) {
            0..=4 => 1,
            5 => 2,
            6 => 3,
            _ => 0,
        };
        if fields == 0 {
            return;
        }
        let members = ch.pick(&[1, 2, 3, 1, 5, 0, 8, 2, 31, 32, 33, 34, 40, 4, 3, 16]);
        let mut keys = Keys::default();
        let mut field = 1;
        let mut start = out.text.len();
        let mut first_in_field = true;
        for _ in 0..members {
            if field < fields && ch.below(8) == 0 {
                out.end_field(Header::TraceState, start);
                field += 1;
                start = out.text.len();
                first_in_field = true;
            }
            if !first_in_field {
                out.text.push(',');
            }
            first_in_field = false;
            member(ch, out.text, &mut keys);
        }
        out.end_field(Header::TraceState, start);
        for _ in field..fields {
            let at = out.text.len();
            out.end_field(Header::TraceState, at);
        }
    }

    /// The places of the first keys written, for duplicates.
    #[derive(Default)]
    struct Keys {
        places: [(usize, usize); 8],
        count: usize,
    }

    const OWS: &[&str] = &["", "", "", "", "", " ", "\t", " \t "];

    fn member(ch: &mut Choices<'_>, s: &mut String, keys: &mut Keys) {
        s.push_str(ch.pick(OWS));
        match ch.below(16) {
            0..=9 => {
                key(ch, s, keys);
                s.push('=');
                value(ch, s);
            }
            10 => {}
            11 => s.push_str(ch.pick(&[" ", "\t", " \t "])),
            12 if keys.count > 0 => {
                let (start, end) = keys.places[ch.below(keys.count)];
                s.extend_from_within(start..end);
                s.push('=');
                value(ch, s);
            }
            13 => key(ch, s, keys),
            14 => {
                for _ in 0..ch.below(8) {
                    let b = ch.byte();
                    s.push(char::from(b'!' + b % 94));
                }
            }
            _ => s.push_str(ch.pick(&["=", "==", "a==b", "=1", "a=1=2", "a= ", "a=b c", "A=1"])),
        }
        s.push_str(ch.pick(OWS));
    }

    fn key(ch: &mut Choices<'_>, s: &mut String, keys: &mut Keys) {
        let start = s.len();
        match ch.below(16) {
            0..=4 => {
                s.push(char::from(LCALPHA[ch.below(LCALPHA.len())]));
                let len = ch.pick(&[2, 0, 4, 7, 254, 255, 256, 1]);
                fill(s, len, &KEY_RUN, ch.byte());
            }
            5 => {
                s.push(char::from(b'0' + ch.byte() % 10));
                fill(s, ch.pick(&[2, 0, 255, 256]), &KEY_RUN, ch.byte());
            }
            6..=8 => {
                s.push(char::from(LCALPHA[ch.below(LCALPHA.len())]));
                fill(s, ch.pick(&[3, 0, 239, 240, 241, 255]), &KEY_RUN, ch.byte());
                s.push('@');
                match ch.below(6) {
                    0..=2 => s.push(char::from(LCALPHA[ch.below(LCALPHA.len())])),
                    3 => s.push(char::from(b'0' + ch.byte() % 10)),
                    4 => s.push_str(ch.pick(&["_", "-", "*", "/", "@"])),
                    _ => {}
                }
                fill(s, ch.pick(&[3, 0, 11, 12, 13, 14, 15, 20]), &KEY_RUN, ch.byte());
            }
            9 => s.push_str(ch.pick(&["a@b@c", "a@@b", "@a", "a@", "1@2", "a@b@"])),
            10 => s.push_str(ch.pick(&["Foo", "fOo", "FOO@bar", "foo@Bar"])),
            11 => {
                s.push_str("foo");
                s.push_str(ch.pick(&[".", " ", "\t", "é", "\u{7f}", "~", "!", "#", "\0"]));
                s.push_str("bar");
            }
            12 => {}
            13 => s.push_str(ch.pick(&["_a", "-a", "*a", "/a"])),
            _ => {
                const ALL: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789_-*/@A.";
                for _ in 0..1 + ch.below(12) {
                    s.push(char::from(ALL[ch.below(ALL.len())]));
                }
            }
        }
        if let Some(slot) = keys.places.get_mut(keys.count) {
            *slot = (start, s.len());
            keys.count += 1;
        }
    }

    fn value(ch: &mut Choices<'_>, s: &mut String) {
        match ch.below(16) {
            0..=5 => {
                let len = ch.pick(&[1, 4, 16, 255, 256, 257, 8, 2]);
                let seed = ch.byte();
                fill(s, len, &VALUE_RUN, seed);
                // A value ends in a non-blank character.
                if s.ends_with(' ') {
                    s.pop();
                    s.push('x');
                }
            }
            6 => s.push_str(ch.pick(&[" x", "  t61rcWkgMzE", "\tx"])),
            7 => s.push_str(ch.pick(&["x ", "x\t", "x \t"])),
            8 => {}
            9 => s.push_str(ch.pick(&[" ", "  ", "\t"])),
            10 => s.push_str(ch.pick(&["=x", "==x", "="])),
            11 => s.push_str(ch.pick(&["a=b", "x="])),
            12 => {
                s.push('a');
                s.push_str(ch.pick(&["\t", "\u{7f}", "é", "\0", "\u{1}", "\u{85}", "\u{a0}"]));
                s.push('b');
            }
            13 => {
                const SOME: &[u8] = b"aZ09 !~=,\t\x7f";
                for _ in 0..1 + ch.below(12) {
                    s.push(char::from(SOME[ch.below(SOME.len())]));
                }
            }
            14 => s.push_str(ch.pick(&["t61rcWkgMzE", "00f067aa0ba902b7", "opaqueValue1"])),
            _ => s.push_str(ch.pick(&["a,b", "a,", ",a"])),
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn runs_visit_their_whole_alphabet_and_cut_to_length() {
            for (run, alphabet) in [(&KEY_RUN, KEYCHARS), (&VALUE_RUN, VALUE_CHARS)] {
                let first: std::collections::BTreeSet<u8> = run[..alphabet.len() * 2].iter().copied().collect();
                assert_eq!(first.len(), alphabet.len());
            }
            let mut s = String::new();
            fill(&mut s, 257, &VALUE_RUN, 255);
            assert_eq!(s.len(), 257);
        }

        #[test]
        fn the_empty_input_is_the_spec_example() {
            let mut text = String::new();
            let mut built = Built::new(&mut text);
            traceparent(&mut Choices::new(&[]), &mut built);
            let fields = built.fields();
            let carrier = fields.carrier();
            assert_eq!(
                carrier.traceparent,
                ["00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"]
            );
            assert_eq!(carrier.tracestate, ["congo=t61rcWkgMzE"]);
        }
    }
}

/// The strict B3 reference (`crate::b3`) on hostile input: an input that
/// starts with `b` or `x` is header lines (`b3: …`, `x-b3-traceid: …`, one a
/// line); any other is read as choices that build a `b3` value near the
/// grammar's edges (ids one digit short or long, upper case, all zero, every
/// sampling state and a few that are not). Nothing may panic, and every
/// context the reference accepts must survive its own single- and
/// multi-header forms unchanged, with a 32-digit, non-zero 128-bit trace id.
/// The same headers then go through the Rust SDK's own B3 propagators, in
/// process ([`b3_differential`]).
pub fn b3(data: &[u8]) {
    use crate::b3::{self, Extracted, Multi};
    let check = |found: Extracted| {
        let Extracted::Continue(c) = found else { return };
        let wide = c.trace_id_128();
        assert!(wide.len() == 32 && wide.bytes().any(|b| b != b'0'), "trace id {wide:?} from {c:?}");
        if c.parent_span_id.is_none() || c.sampling != b3::Sampling::Deferred {
            assert_eq!(b3::parse_single(&c.to_single()), Extracted::Continue(c.clone()), "single form of {c:?}");
        }
        let headers = c.to_multi();
        let get = |name: &str| headers.iter().find(|(n, _)| *n == name).map(|(_, v)| v.as_str());
        let multi = Multi {
            trace_id: get(b3::TRACE_ID),
            span_id: get(b3::SPAN_ID),
            parent_span_id: get(b3::PARENT_SPAN_ID),
            sampled: get(b3::SAMPLED),
            flags: get(b3::FLAGS),
        };
        assert_eq!(b3::parse_multi(&multi), Extracted::Continue(c.clone()), "multi form of {c:?}");
    };
    if matches!(data.first(), Some(b'b' | b'x')) {
        let Ok(text) = std::str::from_utf8(data) else { return };
        let mut single = None;
        let mut multi = Multi::default();
        for line in text.lines() {
            let Some((name, value)) = line.split_once(':') else { continue };
            let value = value.trim_matches([' ', '\t']);
            match name.trim().to_ascii_lowercase().as_str() {
                b3::SINGLE => single = Some(value),
                b3::TRACE_ID => multi.trace_id = Some(value),
                b3::SPAN_ID => multi.span_id = Some(value),
                b3::PARENT_SPAN_ID => multi.parent_span_id = Some(value),
                b3::SAMPLED => multi.sampled = Some(value),
                b3::FLAGS => multi.flags = Some(value),
                _ => {}
            }
        }
        check(b3::extract(single, &multi));
        check(b3::parse_multi(&multi));
        let headers = [
            (b3::SINGLE, single),
            (b3::TRACE_ID, multi.trace_id),
            (b3::SPAN_ID, multi.span_id),
            (b3::PARENT_SPAN_ID, multi.parent_span_id),
            (b3::SAMPLED, multi.sampled),
            (b3::FLAGS, multi.flags),
        ];
        b3_differential(headers.into_iter().filter_map(|(name, value)| Some((name.to_string(), value?.to_string()))).collect());
        return;
    }
    let mut bytes = data.iter().copied();
    let mut next = move |n: u8| bytes.next().map_or(0, |b| b % n);
    let id = |next: &mut dyn FnMut(u8) -> u8, len: usize| -> String {
        let len = match next(6) {
            0 => len - 1,
            1 => len + 1,
            2 if len == 32 => 16,
            _ => len,
        };
        let mut s: String = (0..len).map(|_| char::from(b"0123456789abcdef"[next(16) as usize])).collect();
        match next(12) {
            0 => s = "0".repeat(s.len()),
            1 => s = s.to_uppercase(),
            2 if !s.is_empty() => s.replace_range(0..1, "g"),
            3 if !s.is_empty() => s.replace_range(0..1, "+"),
            _ => {}
        }
        s
    };
    let states = ["1", "0", "d", "", "true", "false", "2", "D", " 1"];
    let fields = 1 + next(5) as usize;
    let mut parts: Vec<String> = Vec::new();
    if fields == 1 {
        parts.push(states[next(states.len() as u8) as usize].to_string());
    } else {
        parts.push(id(&mut next, 32));
        parts.push(id(&mut next, 16));
        if fields >= 3 {
            parts.push(states[next(states.len() as u8) as usize].to_string());
        }
        for _ in 3..fields {
            parts.push(id(&mut next, 16));
        }
    }
    let single = parts.join("-");
    check(b3::parse_single(&single));
    b3_differential([(b3::SINGLE.to_string(), single)].into());
}

/// The B3 propagators, differentially: the headers read by the Rust SDK's own
/// B3 propagator of their form (`b3` for a single header, else `b3multi`; in
/// process, on its corpus service) and judged against the strict reference exactly as `conform --corpus` judges a
/// B3 case ([`crate::conformance::corpus::b3::classify`]). Panics on a class
/// that `conformance/expectations.json` does not accept for sut `rust`.
fn b3_differential(headers: std::collections::BTreeMap<String, String>) {
    let harness = harness();
    let sut = crate::differential::SUT;
    let pass = |class: &str| harness.expectations.expected(sut, class).is_some() && harness.stop_at.as_deref() != Some(class);
    if let Some(report) = b3_unaccepted(headers, &pass) {
        panic!(
            "{report}\n  (hint: minimise with `cargo fuzz tmin -O -a b3`, commit the input under fuzz/regressions/b3/, \
             and either fix the SUT or add the class to {} with its rule, an example and why it is understood)",
            crate::expectations::DEFAULT_PATH
        );
    }
}

/// The first class the in-process Rust SDK's B3 propagators show on
/// `headers` that `pass` does not accept, as a report.
fn b3_unaccepted(headers: std::collections::BTreeMap<String, String>, pass: &dyn Fn(&str) -> bool) -> Option<String> {
    use crate::conformance::corpus::{self, b3::Reader};
    use crate::sut::sdk::rust_sdk::RustSdk;
    // A static, as for model_actions: the SDK's providers outlive the run.
    static SDK: std::sync::OnceLock<std::sync::Mutex<RustSdk>> = std::sync::OnceLock::new();
    let sdk = SDK.get_or_init(|| {
        let mut sdk = RustSdk::new();
        corpus::configure(&mut sdk).expect("the in-process Rust SDK takes the corpus services");
        std::sync::Mutex::new(sdk)
    });
    let mut sdk = sdk.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let carrier = crate::headers::Carrier { b3: headers, ..crate::headers::Carrier::new(&[], &[]) };
    // Read by the propagator of the headers' form, as a corpus case that
    // names none is.
    let reader = Reader::implied_by(&carrier.b3);
    let seen = corpus::observe_in(&mut *sdk, reader.service(), &carrier).expect("the in-process Rust SDK answers every request");
    let finding = corpus::b3::classify(&carrier, reader, &seen).into_iter().find(|f| !pass(&f.class))?;
    Some(format!(
        "B3 class {} ({}) on sut {:?}, read by {}:\n  headers: {:?}\n  the SDK: {seen}",
        finding.class,
        finding.rule,
        crate::differential::SUT,
        reader.name(),
        carrier.b3
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The B3 differential finds what the Rust SDK does differently (here its
    /// `b3` propagator writing the multiple headers too) when nothing is
    /// accepted, and passes the same input under the expectations file.
    #[test]
    fn the_b3_differential_reports_an_unaccepted_class_and_passes_accepted_ones() {
        let single = || [(crate::b3::SINGLE.to_string(), "80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1".to_string())].into();
        let report = b3_unaccepted(single(), &|_| false).expect("the Rust SDK's b3 propagator differs from the reference");
        assert!(report.contains("b3/b3/inject/form-both"), "{report}");
        let expectations = &harness().expectations;
        assert_eq!(b3_unaccepted(single(), &|class| expectations.expected(crate::differential::SUT, class).is_some()), None);
    }
}