//! The `traceparent` header: its version-00 grammar, the rules for reading a
//! higher version, and the canonical form a receiver sends on. Parsing stops
//! at the first broken rule and names it, so a fuzzer can tell which rule an
//! SDK disagrees on rather than only that it disagrees.

use std::fmt;
use std::ops::Range;

use super::{FLAG_RANDOM, FLAG_SAMPLED, Level, char_at, chars, trim_ows};

/// Length of a version-00 value, and the minimum for any higher version.
const V00_LEN: usize = 55;

/// Byte offsets of the dashes between the four version-00 fields.
const SEPARATORS: [usize; 3] = [2, 35, 52];

/// A parsed `traceparent`.
///
/// For a version-00 header `flags` is the byte as received, reserved bits
/// included, so that [`TraceParent::to_header`] gives back what was parsed.
/// For a higher version it holds only the bits the parsing level defines,
/// because the processing model forbids reading the others.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TraceParent {
    /// The version the header arrived with; a receiver answers in version 00
    /// whatever this is ("Downgrade the version").
    pub version: u8,
    pub trace_id: [u8; 16],
    pub parent_id: [u8; 8],
    pub flags: u8,
}

impl TraceParent {
    /// Whether the caller may have recorded trace data (bit `0x01`). Tested as
    /// a bit, never by comparing the whole byte, as "trace-flags" warns.
    pub fn sampled(&self) -> bool {
        self.flags & FLAG_SAMPLED != 0
    }

    /// Whether bit `0x02` is set. At Level 2 this is the random trace-id flag
    /// and must be carried unchanged while the trace-id is kept; at Level 1
    /// the bit is reserved and means nothing.
    pub fn random(&self) -> bool {
        self.flags & FLAG_RANDOM != 0
    }

    /// The flags a conforming vendor may send on when it continues this trace,
    /// before any change of its own to `sampled`: the reserved bits are zeroed
    /// ("Other Flags"), and at Level 2 the random bit is kept as received
    /// ("Random Trace ID Flag").
    pub fn outgoing_flags(&self, level: Level) -> u8 {
        self.flags & level.known_flags()
    }

    /// The canonical version-00 value: lower-case hex, no whitespace. A header
    /// of a higher version comes out as version 00, which is the one mutation
    /// the specification requires of a receiver that understands only 00.
    pub fn to_header(&self) -> String {
        let mut out = String::with_capacity(V00_LEN);
        out.push_str("00-");
        push_hex(&mut out, &self.trace_id);
        out.push('-');
        push_hex(&mut out, &self.parent_id);
        out.push('-');
        push_hex(&mut out, &[self.flags]);
        out
    }
}

impl fmt::Display for TraceParent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_header())
    }
}

fn push_hex(out: &mut String, bytes: &[u8]) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    for &b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
}

/// One of the four `traceparent` fields, for naming where a rule broke.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Field {
    Version,
    TraceId,
    ParentId,
    TraceFlags,
}

impl Field {
    /// The field's name as the specification's ABNF spells it.
    pub fn name(self) -> &'static str {
        match self {
            Field::Version => "version",
            Field::TraceId => "trace-id",
            Field::ParentId => "parent-id",
            Field::TraceFlags => "trace-flags",
        }
    }

    /// The section of the specification that defines the field.
    fn rule(self) -> &'static str {
        match self {
            Field::Version => "traceparent: version",
            Field::TraceId => "traceparent: trace-id",
            Field::ParentId => "traceparent: parent-id",
            Field::TraceFlags => "traceparent: trace-flags",
        }
    }

    /// Where the field sits in a version-00 value (and in the version-00
    /// prefix of a higher version).
    fn span(self) -> Range<usize> {
        match self {
            Field::Version => 0..2,
            Field::TraceId => 3..35,
            Field::ParentId => 36..52,
            Field::TraceFlags => 53..55,
        }
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why a `traceparent` value is invalid. Each variant is one rule; byte
/// offsets count from the start of the value as given, whitespace included.
/// Whatever the variant, the receiver restarts the trace and ignores
/// `tracestate` ("A traceparent is Received", step 2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TraceParentError {
    /// Version 00 is exactly 55 characters (`2-32-16-2`); also reported for a
    /// value too short to hold a version at all. `found` excludes the
    /// surrounding whitespace.
    WrongLength { found: usize },
    /// A higher version shorter than 55 characters must not be parsed
    /// ("Versioning of traceparent").
    FutureVersionTooShort { version: u8, found: usize },
    /// A `-` is missing between two fields: after the version (the "version
    /// prefix"), or at byte 35 or 52 of the version-00 layout.
    BadSeparator { index: usize, found: char },
    /// A hex digit in upper case: the grammar's `HEXDIGLC` is lower case only.
    UpperCaseHex { field: Field, index: usize, found: char },
    /// A character that is not a hex digit at all.
    NonHexCharacter { field: Field, index: usize, found: char },
    /// Version `ff` is forbidden.
    VersionFf,
    /// A trace-id of all zeros is invalid.
    ZeroTraceId,
    /// A parent-id of all zeros is invalid.
    ZeroParentId,
    /// In a higher version, the flags must be followed by the end of the value
    /// or by `-`; version 00 allows nothing after them (`WrongLength`).
    FutureVersionTrailer { version: u8, index: usize, found: char },
}

impl TraceParentError {
    /// The section of the specification whose rule this breaks, for reports.
    pub fn rule(&self) -> &'static str {
        match self {
            TraceParentError::WrongLength { .. } => "traceparent: version-format",
            TraceParentError::FutureVersionTooShort { .. }
            | TraceParentError::FutureVersionTrailer { .. } => "Versioning of traceparent",
            TraceParentError::BadSeparator { .. } => "traceparent Header Field Values",
            TraceParentError::UpperCaseHex { field, .. }
            | TraceParentError::NonHexCharacter { field, .. } => field.rule(),
            TraceParentError::VersionFf => Field::Version.rule(),
            TraceParentError::ZeroTraceId => Field::TraceId.rule(),
            TraceParentError::ZeroParentId => Field::ParentId.rule(),
        }
    }
}

impl fmt::Display for TraceParentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TraceParentError::WrongLength { found } => {
                write!(f, "traceparent is {found} characters long; version 00 needs exactly 55")
            }
            TraceParentError::FutureVersionTooShort { version, found } => write!(
                f,
                "traceparent of version {version:02x} is {found} characters long; \
                 a higher version needs at least 55"
            ),
            TraceParentError::BadSeparator { index, found } => {
                write!(f, "expected '-' between fields at byte {index}, found {found:?}")
            }
            TraceParentError::UpperCaseHex { field, index, found } => write!(
                f,
                "{field} has the upper-case hex digit {found:?} at byte {index}; \
                 only 0-9 and a-f are allowed"
            ),
            TraceParentError::NonHexCharacter { field, index, found } => {
                write!(f, "{field} has the non-hex character {found:?} at byte {index}")
            }
            TraceParentError::VersionFf => f.write_str("version ff is forbidden"),
            TraceParentError::ZeroTraceId => f.write_str("trace-id is all zeros"),
            TraceParentError::ZeroParentId => f.write_str("parent-id is all zeros"),
            TraceParentError::FutureVersionTrailer { version, index, found } => write!(
                f,
                "traceparent of version {version:02x} continues with {found:?} at byte {index}; \
                 after trace-flags only '-' or the end may follow"
            ),
        }
    }
}

impl std::error::Error for TraceParentError {}

/// Parses one `traceparent` field value by the version-00 grammar and the
/// rules for higher versions ("Versioning of traceparent").
///
/// Leading and trailing SP/HTAB are not part of an HTTP field value and are
/// dropped (see the module documentation); nothing else is forgiven. The
/// checks run in the order the processing model reads the header — version
/// prefix, version, length, separators, each field left to right, what
/// follows the flags, then the all-zero ids — and the first failure is
/// returned. `level` only matters for a higher version, whose unknown flags
/// are dropped.
pub fn parse_traceparent(value: &str, level: Level) -> Result<TraceParent, TraceParentError> {
    let (v, lead) = trim_ows(value);
    let b = v.as_bytes();

    // "The version prefix cannot be parsed (it's not 2 hex characters followed
    // by a dash)": judge the characters that are there before the length, so
    // that `0.` reads as a bad version rather than as a short value.
    check_hex(v, lead, Field::Version, 0..b.len().min(2))?;
    let [v0, v1, sep, ..] = *b else {
        return Err(TraceParentError::WrongLength { found: b.len() });
    };
    if sep != b'-' {
        return Err(TraceParentError::BadSeparator { index: lead + 2, found: char_at(v, 2) });
    }
    let version = hex_pair(v0, v1);
    if version == 0xff {
        return Err(TraceParentError::VersionFf);
    }
    if version == 0 && b.len() != V00_LEN {
        return Err(TraceParentError::WrongLength { found: b.len() });
    }
    if b.len() < V00_LEN {
        return Err(TraceParentError::FutureVersionTooShort { version, found: b.len() });
    }
    for &i in &SEPARATORS[1..] {
        if b.get(i) != Some(&b'-') {
            return Err(TraceParentError::BadSeparator { index: lead + i, found: char_at(v, i) });
        }
    }
    for field in [Field::TraceId, Field::ParentId, Field::TraceFlags] {
        check_hex(v, lead, field, field.span())?;
    }
    // Only a higher version may carry more; what it carries is for that
    // version to define, so nothing after the dash is examined.
    if let Some(&next) = b.get(V00_LEN)
        && next != b'-'
    {
        return Err(TraceParentError::FutureVersionTrailer {
            version,
            index: lead + V00_LEN,
            found: char_at(v, V00_LEN),
        });
    }

    let mut trace_id = [0u8; 16];
    decode(b, Field::TraceId, &mut trace_id);
    let mut parent_id = [0u8; 8];
    decode(b, Field::ParentId, &mut parent_id);
    let mut flags = [0u8; 1];
    decode(b, Field::TraceFlags, &mut flags);

    if trace_id == [0; 16] {
        return Err(TraceParentError::ZeroTraceId);
    }
    if parent_id == [0; 8] {
        return Err(TraceParentError::ZeroParentId);
    }
    let flags = if version == 0 { flags[0] } else { flags[0] & level.known_flags() };
    Ok(TraceParent { version, trace_id, parent_id, flags })
}

/// Fails on the first byte in `span` of `v` that is not `HEXDIGLC`. Bytes
/// beyond the end of `v` are not judged: the length rules are checked apart.
fn check_hex(
    v: &str,
    lead: usize,
    field: Field,
    span: Range<usize>,
) -> Result<(), TraceParentError> {
    let bytes = v.as_bytes().get(span.clone()).unwrap_or_default();
    let Some(offset) = chars::first_not(bytes, chars::HEXDIGLC) else {
        return Ok(());
    };
    let i = span.start + offset;
    let found = char_at(v, i);
    let index = lead + i;
    Err(if found.is_ascii_hexdigit() {
        TraceParentError::UpperCaseHex { field, index, found }
    } else {
        TraceParentError::NonHexCharacter { field, index, found }
    })
}

fn hex_digit(c: u8) -> u8 {
    match c {
        b'0'..=b'9' => c - b'0',
        b'a'..=b'f' => c - b'a' + 10,
        // Unreachable after `check_hex`; zero keeps this total without a panic.
        _ => 0,
    }
}

fn hex_pair(hi: u8, lo: u8) -> u8 {
    (hex_digit(hi) << 4) | hex_digit(lo)
}

/// Decodes the validated lower-case hex of `field` into `out`, two
/// characters a byte.
fn decode(b: &[u8], field: Field, out: &mut [u8]) {
    let hex = b.get(field.span()).unwrap_or_default();
    for (byte, pair) in out.iter_mut().zip(hex.chunks_exact(2)) {
        if let [hi, lo] = *pair {
            *byte = hex_pair(hi, lo);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The spec's sampled example ("Examples of HTTP traceparent Headers"),
    /// from which each test below makes one minimal mutation.
    const VALID: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    fn parse(v: &str) -> Result<TraceParent, TraceParentError> {
        parse_traceparent(v, Level::Level2)
    }

    /// `VALID` with byte `i` replaced by `with`.
    fn mutate(i: usize, with: &str) -> String {
        format!("{}{}{}", &VALID[..i], with, &VALID[i + 1..])
    }

    #[test]
    fn the_base_value_is_valid() {
        let p = parse(VALID).expect("the spec's own example is valid");
        assert_eq!(p.version, 0);
        assert_eq!(p.trace_id[0], 0x4b);
        assert_eq!(p.trace_id[15], 0x36);
        assert_eq!(p.parent_id, [0x00, 0xf0, 0x67, 0xaa, 0x0b, 0xa9, 0x02, 0xb7]);
        assert_eq!(p.flags, 0x01);
        assert!(p.sampled());
        assert!(!p.random());
    }

    #[test]
    fn wrong_length_one_short_one_long_or_empty() {
        let short = VALID.replacen("4bf9", "4bf", 1);
        assert_eq!(parse(&short), Err(TraceParentError::WrongLength { found: 54 }));
        let long = format!("{VALID}0");
        assert_eq!(parse(&long), Err(TraceParentError::WrongLength { found: 56 }));
        assert_eq!(parse(""), Err(TraceParentError::WrongLength { found: 0 }));
        assert_eq!(parse("00"), Err(TraceParentError::WrongLength { found: 2 }));
    }

    #[test]
    fn version_00_allows_nothing_after_the_flags() {
        // The W3C suite's test_traceparent_version_0x00 values.
        let dot = format!("{VALID}.");
        assert_eq!(parse(&dot), Err(TraceParentError::WrongLength { found: 56 }));
        let future = format!("{VALID}-what-the-future-will-be-like");
        assert_eq!(parse(&future), Err(TraceParentError::WrongLength { found: 84 }));
    }

    #[test]
    fn future_version_too_short() {
        let v = &mutate(0, "c")[..54];
        assert_eq!(
            parse(v),
            Err(TraceParentError::FutureVersionTooShort { version: 0xc0, found: 54 })
        );
        assert_eq!(
            parse("cc-"),
            Err(TraceParentError::FutureVersionTooShort { version: 0xcc, found: 3 })
        );
    }

    #[test]
    fn bad_separator_at_each_dash() {
        for i in SEPARATORS {
            let v = mutate(i, "_");
            assert_eq!(
                parse(&v),
                Err(TraceParentError::BadSeparator { index: i, found: '_' }),
                "{v}"
            );
        }
        // A three-digit version: the dash is not where the prefix needs it.
        let v = format!("0{VALID}");
        assert_eq!(parse(&v), Err(TraceParentError::BadSeparator { index: 2, found: '0' }));
    }

    #[test]
    fn upper_case_hex_in_each_field() {
        let cases = [
            (1, Field::Version),
            (4, Field::TraceId),
            (38, Field::ParentId),
            (54, Field::TraceFlags),
        ];
        for (i, field) in cases {
            let v = mutate(i, "A");
            assert_eq!(
                parse(&v),
                Err(TraceParentError::UpperCaseHex { field, index: i, found: 'A' }),
                "{v}"
            );
        }
    }

    #[test]
    fn non_hex_character_in_each_field() {
        let cases = [
            (0, Field::Version),
            (34, Field::TraceId),
            (36, Field::ParentId),
            (53, Field::TraceFlags),
        ];
        for (i, field) in cases {
            let v = mutate(i, ".");
            assert_eq!(
                parse(&v),
                Err(TraceParentError::NonHexCharacter { field, index: i, found: '.' }),
                "{v}"
            );
        }
        let v = mutate(10, "g");
        assert_eq!(
            parse(&v),
            Err(TraceParentError::NonHexCharacter { field: Field::TraceId, index: 10, found: 'g' })
        );
    }

    #[test]
    fn a_one_digit_version_is_a_bad_version() {
        // The W3C suite's test_traceparent_version_too_short value.
        let v = &VALID[1..];
        assert_eq!(
            parse(v),
            Err(TraceParentError::NonHexCharacter { field: Field::Version, index: 1, found: '-' })
        );
    }

    #[test]
    fn version_ff_is_forbidden() {
        let v = VALID.replacen("00-", "ff-", 1);
        assert_eq!(parse(&v), Err(TraceParentError::VersionFf));
        // Even in a value too short for anything else to be judged.
        assert_eq!(parse("ff-"), Err(TraceParentError::VersionFf));
    }

    #[test]
    fn zero_trace_id() {
        let v = VALID.replacen("4bf92f3577b34da6a3ce929d0e0e4736", &"0".repeat(32), 1);
        assert_eq!(parse(&v), Err(TraceParentError::ZeroTraceId));
    }

    #[test]
    fn zero_parent_id() {
        let v = VALID.replacen("00f067aa0ba902b7", &"0".repeat(16), 1);
        assert_eq!(parse(&v), Err(TraceParentError::ZeroParentId));
    }

    #[test]
    fn zero_ids_are_judged_in_higher_versions_too() {
        let v = VALID.replacen("00f067aa0ba902b7", &"0".repeat(16), 1).replacen("00-", "cc-", 1);
        assert_eq!(parse(&v), Err(TraceParentError::ZeroParentId));
    }

    #[test]
    fn future_version_trailer_must_start_with_a_dash() {
        let base = VALID.replacen("00-", "cc-", 1);
        let v = format!("{base}.what-the-future-will-be-like");
        assert_eq!(
            parse(&v),
            Err(TraceParentError::FutureVersionTrailer { version: 0xcc, index: 55, found: '.' })
        );
    }

    #[test]
    fn future_version_is_read_by_its_version_00_prefix() {
        let base = VALID.replacen("00-", "cc-", 1);
        for v in [base.clone(), format!("{base}-what-the-future-will-be-like"), format!("{base}-")]
        {
            let p = parse(&v).expect("a higher version with a version-00 prefix is valid");
            assert_eq!(p.version, 0xcc);
            assert_eq!(p.to_header(), VALID, "answered in version 00");
        }
    }

    #[test]
    fn future_version_keeps_only_the_flags_the_level_knows() {
        let v = VALID.replacen("00-", "cc-", 1).replacen("-01", "-ff", 1);
        assert_eq!(parse_traceparent(&v, Level::Level1).map(|p| p.flags), Ok(0x01));
        assert_eq!(parse_traceparent(&v, Level::Level2).map(|p| p.flags), Ok(0x03));
    }

    #[test]
    fn version_00_keeps_reserved_flags_as_received_but_does_not_send_them() {
        let v = VALID.replacen("-01", "-ff", 1);
        for level in [Level::Level1, Level::Level2] {
            let p = parse_traceparent(&v, level)
                .expect("any two hex digits are valid version-00 flags");
            assert_eq!(p.flags, 0xff);
            assert_eq!(p.outgoing_flags(level), level.known_flags());
        }
    }

    #[test]
    fn random_flag_is_kept_at_level_2_and_zeroed_at_level_1() {
        let v = VALID.replacen("-01", "-02", 1);
        let p = parse(&v).expect("flag 02 is valid");
        assert!(p.random());
        assert!(!p.sampled());
        assert_eq!(p.outgoing_flags(Level::Level2), 0x02);
        assert_eq!(p.outgoing_flags(Level::Level1), 0x00);
    }

    #[test]
    fn surrounding_ows_is_not_part_of_the_value() {
        // The W3C suite's test_traceparent_ows_handling values.
        for v in [
            format!(" {VALID}"),
            format!("\t{VALID}"),
            format!("{VALID} "),
            format!("{VALID}\t"),
            format!("\t {VALID} \t"),
        ] {
            assert_eq!(parse(&v).map(|p| p.to_header()), Ok(VALID.to_string()), "{v:?}");
        }
    }

    #[test]
    fn other_whitespace_is_not_forgiven_and_offsets_count_the_ows() {
        assert_eq!(
            parse(&format!("\n{VALID}")),
            Err(TraceParentError::NonHexCharacter { field: Field::Version, index: 0, found: '\n' })
        );
        assert_eq!(parse(&format!("{VALID}\r")), Err(TraceParentError::WrongLength { found: 56 }));
        // Inside the value a space is just a wrong character, at its offset
        // in the value as given.
        let v = format!("  {}", mutate(40, " "));
        assert_eq!(
            parse(&v),
            Err(TraceParentError::NonHexCharacter {
                field: Field::ParentId,
                index: 42,
                found: ' '
            })
        );
    }

    #[test]
    fn non_ascii_is_rejected_by_byte_offset() {
        // 'é' is two bytes: in the version the first byte is the culprit.
        let v = format!("é{}", &VALID[1..]);
        assert_eq!(
            parse(&v),
            Err(TraceParentError::NonHexCharacter { field: Field::Version, index: 0, found: 'é' })
        );
        // Straddling a separator, the evidence is the replacement character.
        let v = format!("{}é{}", &VALID[..34], &VALID[35..]);
        assert_eq!(parse(&v), Err(TraceParentError::WrongLength { found: 56 }));
        let v = format!("cc{}é{}", &VALID[2..34], &VALID[35..]);
        assert_eq!(
            parse(&v),
            Err(TraceParentError::BadSeparator { index: 35, found: char::REPLACEMENT_CHARACTER })
        );
    }

    #[test]
    fn to_header_round_trips() {
        let p = parse(VALID).expect("valid");
        assert_eq!(p.to_header(), VALID);
        assert_eq!(parse(&p.to_header()), Ok(p));
        assert_eq!(p.to_string(), VALID);
    }

    #[test]
    fn every_error_names_its_rule() {
        let cases: [(TraceParentError, &str); 12] = [
            (TraceParentError::WrongLength { found: 0 }, "traceparent: version-format"),
            (
                TraceParentError::FutureVersionTooShort { version: 1, found: 3 },
                "Versioning of traceparent",
            ),
            (
                TraceParentError::FutureVersionTrailer { version: 1, index: 55, found: '.' },
                "Versioning of traceparent",
            ),
            (
                TraceParentError::BadSeparator { index: 2, found: '_' },
                "traceparent Header Field Values",
            ),
            (
                TraceParentError::UpperCaseHex { field: Field::Version, index: 0, found: 'A' },
                "traceparent: version",
            ),
            (
                TraceParentError::UpperCaseHex { field: Field::TraceId, index: 3, found: 'A' },
                "traceparent: trace-id",
            ),
            (
                TraceParentError::NonHexCharacter { field: Field::ParentId, index: 36, found: 'x' },
                "traceparent: parent-id",
            ),
            (
                TraceParentError::NonHexCharacter {
                    field: Field::TraceFlags,
                    index: 53,
                    found: 'x',
                },
                "traceparent: trace-flags",
            ),
            (TraceParentError::VersionFf, "traceparent: version"),
            (TraceParentError::ZeroTraceId, "traceparent: trace-id"),
            (TraceParentError::ZeroParentId, "traceparent: parent-id"),
            (TraceParentError::WrongLength { found: 56 }, "traceparent: version-format"),
        ];
        for (error, rule) in cases {
            assert_eq!(error.rule(), rule, "{error:?}");
        }
    }

    #[test]
    fn error_messages() {
        let messages = [
            TraceParentError::WrongLength { found: 54 },
            TraceParentError::FutureVersionTooShort { version: 0xcc, found: 3 },
            TraceParentError::BadSeparator { index: 35, found: '_' },
            TraceParentError::UpperCaseHex { field: Field::TraceId, index: 4, found: 'A' },
            TraceParentError::NonHexCharacter { field: Field::TraceFlags, index: 53, found: '.' },
            TraceParentError::VersionFf,
            TraceParentError::ZeroTraceId,
            TraceParentError::ZeroParentId,
            TraceParentError::FutureVersionTrailer { version: 0xcc, index: 55, found: '.' },
        ]
        .map(|e| e.to_string())
        .join("\n");
        insta::assert_snapshot!(messages, @r"
        traceparent is 54 characters long; version 00 needs exactly 55
        traceparent of version cc is 3 characters long; a higher version needs at least 55
        expected '-' between fields at byte 35, found '_'
        trace-id has the upper-case hex digit 'A' at byte 4; only 0-9 and a-f are allowed
        trace-flags has the non-hex character '.' at byte 53
        version ff is forbidden
        trace-id is all zeros
        parent-id is all zeros
        traceparent of version cc continues with '.' at byte 55; after trace-flags only '-' or the end may follow
        ");
    }
}
