//! The `tracestate` header: combining repeated fields, the list, key and
//! value grammars of each level, and the verdict a receiver reaches — keep
//! the list, keep it after dropping what the specification lets a receiver
//! drop, or discard it whole — together with the rule behind that verdict.

use std::borrow::Cow;
use std::fmt;

use super::{Level, char_at, chars, trim_ows};

/// The most `key=value` list-members a `tracestate` may hold.
pub const MAX_MEMBERS: usize = 32;

/// `key = ( lcalpha / DIGIT ) 0*255 ( keychar )` (Level 2) and
/// `simple-key = lcalpha 0*255( … )` (Level 1).
const MAX_KEY_LEN: usize = 256;
/// `value = 0*255(chr) nblk-chr`.
const MAX_VALUE_LEN: usize = 256;
/// Level 1: `tenant-id = ( lcalpha / DIGIT ) 0*240( … )`.
const MAX_TENANT_LEN: usize = 241;
/// Level 1: `system-id = lcalpha 0*13( … )`.
const MAX_SYSTEM_LEN: usize = 14;

/// An ordered `tracestate` list whose every member passed the grammar of the
/// level it was parsed at. Order is kept because it carries meaning: the
/// left-most entry belongs to the vendor that wrote the `traceparent`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct TraceState {
    members: Vec<(String, String)>,
}

impl TraceState {
    /// Builds a list from members already known to be valid; only the parser
    /// and the spec examples may, so that every `TraceState` is one a
    /// receiver could have accepted.
    pub(crate) fn from_members<K: Into<String>, V: Into<String>>(
        members: impl IntoIterator<Item = (K, V)>,
    ) -> TraceState {
        TraceState { members: members.into_iter().map(|(k, v)| (k.into(), v.into())).collect() }
    }

    /// The `(key, value)` members, left to right.
    pub fn members(&self) -> &[(String, String)] {
        &self.members
    }

    /// The value of the left-most member with this key.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.members.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }

    pub fn len(&self) -> usize {
        self.members.len()
    }

    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    /// The list as one field value, without optional whitespace (which a
    /// caller "SHOULD NOT generate" except as a single space). An empty list
    /// gives an empty string: a vendor should then send no `tracestate`.
    pub fn to_header(&self) -> String {
        let mut out = String::new();
        for (i, (key, value)) in self.members.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str(key);
            out.push('=');
            out.push_str(value);
        }
        out
    }
}

impl fmt::Display for TraceState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_header())
    }
}

/// A list-member the receiver left out of an otherwise valid list, and why
/// that was allowed. `member` numbers the list-members of the combined value
/// from 0, empty ones included.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Dropped {
    /// An empty or whitespace-only member: allowed, and carries nothing.
    EmptyMember { member: usize },
    /// Level 2: a repeat of a key seen further left. Sending a duplicate is
    /// the sender's fault; a receiver "MAY also discard duplicate keys", and
    /// this oracle keeps the left-most entry, the most recently written one.
    /// A receiver that forwards the repeat unchanged also conforms.
    DuplicateKey { key: String, member: usize, kept: usize },
}

impl Dropped {
    pub fn member(&self) -> usize {
        match self {
            Dropped::EmptyMember { member } | Dropped::DuplicateKey { member, .. } => *member,
        }
    }

    /// The section of the specification that allows the drop.
    pub fn rule(&self) -> &'static str {
        match self {
            Dropped::EmptyMember { .. } => "tracestate Header Field Values",
            Dropped::DuplicateKey { .. } => "Mutating the tracestate Field",
        }
    }
}

impl fmt::Display for Dropped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Dropped::EmptyMember { member } => write!(f, "list-member {member} is empty"),
            Dropped::DuplicateKey { key, member, kept } => {
                write!(f, "list-member {member} repeats key {key:?} of list-member {kept}")
            }
        }
    }
}

/// What a receiver does with the `tracestate` field values it got.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum TraceStateOutcome {
    /// No `tracestate` field arrived.
    Absent,
    /// Every list-member was a valid `key=value`: forward the list as is.
    Kept(TraceState),
    /// Valid, but some members carried nothing or repeated a key: forward
    /// `state`, which leaves them out.
    Cleaned { state: TraceState, dropped: Vec<Dropped> },
    /// The combined value breaks the grammar: forward no `tracestate`.
    Discarded(TraceStateError),
}

impl TraceStateOutcome {
    /// The list to forward, if any survives.
    pub fn state(&self) -> Option<&TraceState> {
        match self {
            TraceStateOutcome::Kept(state) | TraceStateOutcome::Cleaned { state, .. } => {
                Some(state)
            }
            TraceStateOutcome::Absent | TraceStateOutcome::Discarded(_) => None,
        }
    }

    /// The section of the specification that decided the outcome.
    pub fn rule(&self) -> &'static str {
        match self {
            TraceStateOutcome::Absent => "Tracestate Header",
            TraceStateOutcome::Kept(_) => "tracestate Header Field Values",
            TraceStateOutcome::Cleaned { dropped, .. } => {
                dropped.first().map_or("tracestate Header Field Values", Dropped::rule)
            }
            TraceStateOutcome::Discarded(error) => error.rule(),
        }
    }
}

/// Why a `tracestate` is discarded. `member` numbers the list-members of the
/// combined value from 0, empty ones included; `index` is a byte offset
/// within the key or value named.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum TraceStateError {
    /// A non-empty list-member without `=`: it is neither `key "=" value` nor
    /// OWS.
    MissingEquals { member: usize },
    /// Nothing before the `=`.
    EmptyKey { member: usize },
    /// More than 256 characters.
    KeyTooLong { member: usize, len: usize },
    /// Level 2: a key starts with a-z or 0-9. Level 1: a key without `@`
    /// starts with a-z, a tenant-id with a-z or 0-9.
    KeyBadFirstCharacter { member: usize, found: char },
    /// A character outside a-z 0-9 `_ - * /` and, at Level 2, `@`. At Level 1
    /// a second `@` is reported here.
    KeyBadCharacter { member: usize, index: usize, found: char },
    /// Level 1: the part before `@` is longer than 241 characters.
    TenantIdTooLong { member: usize, len: usize },
    /// Level 1: the part after `@` is longer than 14 characters.
    SystemIdTooLong { member: usize, len: usize },
    /// Level 1: the part after `@` is empty (`found` is `None`) or does not
    /// start with a-z.
    BadSystemIdStart { member: usize, found: Option<char> },
    /// Nothing after the `=`, once trailing OWS is set aside: a value needs a
    /// non-blank character.
    EmptyValue { member: usize },
    /// A character outside printable ASCII (0x20–0x7E), or `=`.
    ValueBadCharacter { member: usize, index: usize, found: char },
    /// More than 256 characters.
    ValueTooLong { member: usize, len: usize },
    /// More than 32 `key=value` members.
    TooManyMembers { count: usize },
    /// Level 1: "Only one entry per key is allowed."
    DuplicateKey { key: String, first: usize, again: usize },
}

impl TraceStateError {
    /// The section of the specification whose rule this breaks, for reports.
    pub fn rule(&self) -> &'static str {
        match self {
            TraceStateError::MissingEquals { .. } | TraceStateError::TooManyMembers { .. } => {
                "tracestate: list"
            }
            TraceStateError::EmptyKey { .. }
            | TraceStateError::KeyTooLong { .. }
            | TraceStateError::KeyBadFirstCharacter { .. }
            | TraceStateError::KeyBadCharacter { .. } => "tracestate: Key",
            TraceStateError::TenantIdTooLong { .. }
            | TraceStateError::SystemIdTooLong { .. }
            | TraceStateError::BadSystemIdStart { .. } => "tracestate: Key (multi-tenant-key)",
            TraceStateError::EmptyValue { .. }
            | TraceStateError::ValueBadCharacter { .. }
            | TraceStateError::ValueTooLong { .. } => "tracestate: Value",
            TraceStateError::DuplicateKey { .. } => "tracestate: Combined Header Value",
        }
    }
}

impl fmt::Display for TraceStateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TraceStateError::MissingEquals { member } => {
                write!(f, "list-member {member} has no '=' between key and value")
            }
            TraceStateError::EmptyKey { member } => {
                write!(f, "list-member {member} has an empty key")
            }
            TraceStateError::KeyTooLong { member, len } => write!(
                f,
                "key of list-member {member} is {len} characters long; \
                 at most {MAX_KEY_LEN} are allowed"
            ),
            TraceStateError::KeyBadFirstCharacter { member, found } => {
                write!(f, "key of list-member {member} may not start with {found:?}")
            }
            TraceStateError::KeyBadCharacter { member, index, found } => {
                write!(
                    f,
                    "key of list-member {member} has {found:?} at byte {index}, \
                     which keys do not allow"
                )
            }
            TraceStateError::TenantIdTooLong { member, len } => write!(
                f,
                "tenant-id of list-member {member} is {len} characters long; \
                 at most {MAX_TENANT_LEN} are allowed"
            ),
            TraceStateError::SystemIdTooLong { member, len } => write!(
                f,
                "system-id of list-member {member} is {len} characters long; \
                 at most {MAX_SYSTEM_LEN} are allowed"
            ),
            TraceStateError::BadSystemIdStart { member, found: None } => {
                write!(f, "system-id of list-member {member} is empty")
            }
            TraceStateError::BadSystemIdStart { member, found: Some(c) } => {
                write!(
                    f,
                    "system-id of list-member {member} starts with {c:?}; it must start with a-z"
                )
            }
            TraceStateError::EmptyValue { member } => {
                write!(f, "list-member {member} has an empty value")
            }
            TraceStateError::ValueBadCharacter { member, index, found } => write!(
                f,
                "value of list-member {member} has {found:?} at byte {index}; \
                 values allow printable ASCII except ',' and '='"
            ),
            TraceStateError::ValueTooLong { member, len } => write!(
                f,
                "value of list-member {member} is {len} characters long; \
                 at most {MAX_VALUE_LEN} are allowed"
            ),
            TraceStateError::TooManyMembers { count } => {
                write!(f, "tracestate has {count} list-members; at most {MAX_MEMBERS} are allowed")
            }
            TraceStateError::DuplicateKey { key, first, again } => write!(
                f,
                "key {key:?} appears in list-members {first} and {again}; \
                 only one entry per key is allowed"
            ),
        }
    }
}

impl std::error::Error for TraceStateError {}

/// Judges the `tracestate` field values of one request, in the order they
/// arrived.
///
/// Repeated fields are first joined with commas, as RFC 9110 §5.3 combines
/// field lines, so a member never spans two fields and an empty field becomes
/// an empty member. The combined list is then checked left to right, and the
/// first member that breaks the grammar discards the whole list; only then
/// are the member count and, at Level 1, repeated keys checked.
pub fn parse_tracestate(values: &[&str], level: Level) -> TraceStateOutcome {
    if values.is_empty() {
        return TraceStateOutcome::Absent;
    }
    // One field line is the common case; several are combined as HTTP
    // combines them, with commas.
    let combined = match values {
        [one] => Cow::Borrowed(*one),
        _ => Cow::Owned(values.join(",")),
    };
    let mut members = Vec::new();
    let mut dropped = Vec::new();
    for (member, raw) in combined.split(',').enumerate() {
        // "Spaces and horizontal tabs surrounding list-members are ignored";
        // trailing ones are, besides, not part of a value.
        let (text, _) = trim_ows(raw);
        if text.is_empty() {
            dropped.push(Dropped::EmptyMember { member });
            continue;
        }
        let Some((key, value)) = text.split_once('=') else {
            return TraceStateOutcome::Discarded(TraceStateError::MissingEquals { member });
        };
        let checked = match level {
            Level::Level1 => check_key_level1(key, member),
            Level::Level2 => check_key_level2(key, member),
        }
        .and_then(|()| check_value(value, member));
        if let Err(error) = checked {
            return TraceStateOutcome::Discarded(error);
        }
        members.push((member, key, value));
    }
    if members.len() > MAX_MEMBERS {
        return TraceStateOutcome::Discarded(TraceStateError::TooManyMembers {
            count: members.len(),
        });
    }

    // At most MAX_MEMBERS members remain, so a scan of those kept so far
    // finds a repeat as soon as a map would.
    let mut kept: Vec<(usize, &str, &str)> = Vec::with_capacity(members.len());
    for (member, key, value) in members {
        match kept.iter().find(|&&(_, k, _)| k == key) {
            None => kept.push((member, key, value)),
            Some(&(first, _, _)) => match level {
                Level::Level1 => {
                    return TraceStateOutcome::Discarded(TraceStateError::DuplicateKey {
                        key: key.to_string(),
                        first,
                        again: member,
                    });
                }
                Level::Level2 => {
                    dropped.push(Dropped::DuplicateKey {
                        key: key.to_string(),
                        member,
                        kept: first,
                    });
                }
            },
        }
    }

    let state = TraceState::from_members(kept.into_iter().map(|(_, key, value)| (key, value)));
    if dropped.is_empty() {
        TraceStateOutcome::Kept(state)
    } else {
        dropped.sort_by_key(Dropped::member);
        TraceStateOutcome::Cleaned { state, dropped }
    }
}

/// Checks the length limits both levels share, returning the key's bytes.
fn check_key_length(key: &str, member: usize) -> Result<&[u8], TraceStateError> {
    let bytes = key.as_bytes();
    if bytes.is_empty() {
        return Err(TraceStateError::EmptyKey { member });
    }
    if bytes.len() > MAX_KEY_LEN {
        return Err(TraceStateError::KeyTooLong { member, len: bytes.len() });
    }
    Ok(bytes)
}

/// Fails on the first byte of `part` (which starts at byte `offset` of `key`)
/// outside `class` ([`chars`]), skipping the first `skip` bytes.
fn check_chars(
    key: &str,
    member: usize,
    offset: usize,
    part: &[u8],
    skip: usize,
    class: u8,
) -> Result<(), TraceStateError> {
    match chars::first_not(part.get(skip..).unwrap_or_default(), class) {
        None => Ok(()),
        Some(i) => {
            let index = offset + skip + i;
            Err(TraceStateError::KeyBadCharacter { member, index, found: char_at(key, index) })
        }
    }
}

/// Level 2: `key = ( lcalpha / DIGIT ) 0*255 ( keychar )`, where `keychar`
/// includes `@` anywhere after the first character.
fn check_key_level2(key: &str, member: usize) -> Result<(), TraceStateError> {
    let bytes = check_key_length(key, member)?;
    if !bytes.first().is_some_and(|&b| chars::is(b, chars::LCALPHA_DIGIT)) {
        return Err(TraceStateError::KeyBadFirstCharacter { member, found: char_at(key, 0) });
    }
    check_chars(key, member, 0, bytes, 1, chars::KEYCHAR_AT)
}

/// Level 1: `key = simple-key / multi-tenant-key`. The ABNF, not the prose
/// note beside it, decides the first character: a simple key starts with a
/// letter, only a tenant-id may start with a digit.
fn check_key_level1(key: &str, member: usize) -> Result<(), TraceStateError> {
    let bytes = check_key_length(key, member)?;
    let (tenant, system) = match key.split_once('@') {
        Some((tenant, system)) => (tenant.as_bytes(), Some(system.as_bytes())),
        None => (bytes, None),
    };
    let first_class = if system.is_some() { chars::LCALPHA_DIGIT } else { chars::LCALPHA };
    if !bytes.first().is_some_and(|&b| chars::is(b, first_class)) {
        return Err(TraceStateError::KeyBadFirstCharacter { member, found: char_at(key, 0) });
    }
    check_chars(key, member, 0, tenant, 1, chars::KEYCHAR)?;
    let Some(system) = system else {
        return Ok(());
    };
    if tenant.len() > MAX_TENANT_LEN {
        return Err(TraceStateError::TenantIdTooLong { member, len: tenant.len() });
    }
    let system_at = tenant.len() + 1;
    match system.first() {
        Some(&b) if chars::is(b, chars::LCALPHA) => {}
        first => {
            let found = first.map(|_| char_at(key, system_at));
            return Err(TraceStateError::BadSystemIdStart { member, found });
        }
    }
    check_chars(key, member, system_at, system, 1, chars::KEYCHAR)?;
    if system.len() > MAX_SYSTEM_LEN {
        return Err(TraceStateError::SystemIdTooLong { member, len: system.len() });
    }
    Ok(())
}

/// `value = 0*255(chr) nblk-chr`. The caller has already cut trailing OWS, so
/// the value cannot end in a space; leading spaces stay part of it.
fn check_value(value: &str, member: usize) -> Result<(), TraceStateError> {
    let bytes = value.as_bytes();
    if bytes.is_empty() {
        return Err(TraceStateError::EmptyValue { member });
    }
    // ',' cannot occur: the list was split on it.
    if let Some(index) = chars::first_not(bytes, chars::CHR) {
        return Err(TraceStateError::ValueBadCharacter {
            member,
            index,
            found: char_at(value, index),
        });
    }
    if bytes.len() > MAX_VALUE_LEN {
        return Err(TraceStateError::ValueTooLong { member, len: bytes.len() });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const L1: Level = Level::Level1;
    const L2: Level = Level::Level2;

    fn kept(pairs: &[(&str, &str)]) -> TraceStateOutcome {
        TraceStateOutcome::Kept(TraceState::from_members(pairs.iter().copied()))
    }

    fn discarded(error: TraceStateError) -> TraceStateOutcome {
        TraceStateOutcome::Discarded(error)
    }

    /// Parses one field value at both levels, which must agree.
    fn both(value: &str) -> TraceStateOutcome {
        let one = parse_tracestate(&[value], L1);
        assert_eq!(one, parse_tracestate(&[value], L2), "levels disagree on {value:?}");
        one
    }

    #[test]
    fn absent_when_no_field_arrived() {
        assert_eq!(parse_tracestate(&[], L2), TraceStateOutcome::Absent);
        assert_eq!(TraceStateOutcome::Absent.state(), None);
    }

    #[test]
    fn a_valid_list_is_kept_in_order() {
        assert_eq!(both("foo=1,bar=2"), kept(&[("foo", "1"), ("bar", "2")]));
    }

    #[test]
    fn missing_equals() {
        assert_eq!(both("foo=1,bar"), discarded(TraceStateError::MissingEquals { member: 1 }));
    }

    #[test]
    fn empty_key() {
        assert_eq!(both("=1"), discarded(TraceStateError::EmptyKey { member: 0 }));
    }

    #[test]
    fn key_too_long_at_257() {
        let max = "z".repeat(256);
        assert_eq!(both(&format!("{max}=1")), kept(&[(max.as_str(), "1")]));
        let over = "z".repeat(257);
        assert_eq!(
            both(&format!("{over}=1")),
            discarded(TraceStateError::KeyTooLong { member: 0, len: 257 })
        );
    }

    #[test]
    fn key_bad_first_character() {
        for (value, found) in [("_foo=1", '_'), ("@foo=1", '@'), ("Foo=1", 'F')] {
            assert_eq!(
                both(value),
                discarded(TraceStateError::KeyBadFirstCharacter { member: 0, found })
            );
        }
    }

    #[test]
    fn key_bad_character() {
        // The W3C suite's test_tracestate_key_illegal_characters values.
        let cases =
            [("foo =1", 3, ' '), ("fOO=1", 1, 'O'), ("foo.bar=1", 3, '.'), ("foo\t=1", 3, '\t')];
        for (value, index, found) in cases {
            assert_eq!(
                both(value),
                discarded(TraceStateError::KeyBadCharacter { member: 0, index, found })
            );
        }
    }

    #[test]
    fn a_digit_may_start_a_key_only_at_level_2_or_before_an_at_sign() {
        assert_eq!(parse_tracestate(&["1foo=1"], L2), kept(&[("1foo", "1")]));
        assert_eq!(
            parse_tracestate(&["1foo=1"], L1),
            discarded(TraceStateError::KeyBadFirstCharacter { member: 0, found: '1' })
        );
        assert_eq!(parse_tracestate(&["1foo@bar=1"], L1), kept(&[("1foo@bar", "1")]));
    }

    #[test]
    fn tenant_id_too_long_at_level_1_only() {
        let max = format!("{}@{}", "t".repeat(241), "v".repeat(14));
        assert_eq!(both(&format!("{max}=1")), kept(&[(max.as_str(), "1")]));
        let over = format!("{}@v", "t".repeat(242));
        assert_eq!(
            parse_tracestate(&[&format!("{over}=1")], L1),
            discarded(TraceStateError::TenantIdTooLong { member: 0, len: 242 })
        );
        assert_eq!(parse_tracestate(&[&format!("{over}=1")], L2), kept(&[(over.as_str(), "1")]));
    }

    #[test]
    fn system_id_too_long_at_level_1_only() {
        let over = format!("t@{}", "v".repeat(15));
        assert_eq!(
            parse_tracestate(&[&format!("{over}=1")], L1),
            discarded(TraceStateError::SystemIdTooLong { member: 0, len: 15 })
        );
        assert_eq!(parse_tracestate(&[&format!("{over}=1")], L2), kept(&[(over.as_str(), "1")]));
    }

    #[test]
    fn bad_system_id_start_at_level_1_only() {
        // The W3C suite's test_tracestate_key_illegal_vendor_format values,
        // which the suite judged by Level 1 before Level 2 relaxed the key.
        let cases = [
            ("foo@=1,bar=2", None),
            ("foo@@bar=1,bar=2", Some('@')),
            ("foo@1ar=1,bar=2", Some('1')),
        ];
        for (value, found) in cases {
            assert_eq!(
                parse_tracestate(&[value], L1),
                discarded(TraceStateError::BadSystemIdStart { member: 0, found }),
                "{value}"
            );
            assert!(
                matches!(parse_tracestate(&[value], L2), TraceStateOutcome::Kept(_)),
                "{value}"
            );
        }
    }

    #[test]
    fn a_second_at_sign_is_a_bad_character_at_level_1_only() {
        assert_eq!(
            parse_tracestate(&["foo@bar@baz=1"], L1),
            discarded(TraceStateError::KeyBadCharacter { member: 0, index: 7, found: '@' })
        );
        assert_eq!(parse_tracestate(&["foo@bar@baz=1"], L2), kept(&[("foo@bar@baz", "1")]));
    }

    #[test]
    fn every_key_character_is_allowed() {
        // The W3C suite's test_tracestate_all_allowed_characters keys.
        let plain = "abcdefghijklmnopqrstuvwxyz0123456789_-*/";
        let tenant = format!("{plain}@a-z0-9_-*/");
        assert_eq!(both(&format!("{plain}=1")), kept(&[(plain, "1")]));
        assert_eq!(both(&format!("{tenant}=1")), kept(&[(tenant.as_str(), "1")]));
    }

    #[test]
    fn empty_value() {
        assert_eq!(both("foo="), discarded(TraceStateError::EmptyValue { member: 0 }));
        assert_eq!(both("foo=   "), discarded(TraceStateError::EmptyValue { member: 0 }));
        // The W3C suite's test_tracestate_value_illegal_characters value.
        assert_eq!(both("foo=,bar=3"), discarded(TraceStateError::EmptyValue { member: 0 }));
    }

    #[test]
    fn value_bad_character() {
        let cases = [
            ("foo=bar=baz", 3, '='),
            ("foo=a\tb", 1, '\t'),
            ("foo=é", 0, 'é'),
            ("foo=a\u{7f}", 1, '\u{7f}'),
        ];
        for (value, index, found) in cases {
            assert_eq!(
                both(value),
                discarded(TraceStateError::ValueBadCharacter { member: 0, index, found })
            );
        }
    }

    #[test]
    fn value_too_long_at_257() {
        let max = "v".repeat(256);
        assert_eq!(both(&format!("foo={max}")), kept(&[("foo", max.as_str())]));
        let over = "v".repeat(257);
        assert_eq!(
            both(&format!("foo={over}")),
            discarded(TraceStateError::ValueTooLong { member: 0, len: 257 })
        );
    }

    #[test]
    fn every_value_character_is_allowed_and_leading_spaces_are_kept() {
        let value: String =
            (0x20u8..=0x7e).filter(|&b| b != b',' && b != b'=').map(char::from).collect();
        assert_eq!(both(&format!("foo={value}")), kept(&[("foo", value.as_str())]));
        assert_eq!(both("foo=  bar  "), kept(&[("foo", "  bar")]));
    }

    #[test]
    fn ows_around_members_is_ignored() {
        // The W3C suite's test_tracestate_ows_handling values.
        let three = kept(&[("foo", "1"), ("bar", "2"), ("baz", "3")]);
        assert_eq!(both("foo=1 \t , \t bar=2, \t baz=3"), three);
        assert_eq!(both("foo=1\t \t,\t \tbar=2,\t \tbaz=3"), three);
        for value in [" foo=1", "\tfoo=1", "foo=1 ", "foo=1\t", "\t foo=1 \t"] {
            assert_eq!(both(value), kept(&[("foo", "1")]), "{value:?}");
        }
    }

    #[test]
    fn too_many_members_at_33() {
        let members: Vec<String> = (1..=33).map(|i| format!("bar{i:02}={i:02}")).collect();
        let thirty_two = members[..32].join(",");
        assert!(matches!(both(&thirty_two), TraceStateOutcome::Kept(s) if s.len() == 32));
        let thirty_three = members.join(",");
        assert_eq!(both(&thirty_three), discarded(TraceStateError::TooManyMembers { count: 33 }));
    }

    #[test]
    fn empty_members_do_not_count_towards_the_limit() {
        let members: Vec<String> = (1..=32).map(|i| format!("bar{i:02}={i:02}")).collect();
        let value = format!(",{}, ,", members.join(","));
        let TraceStateOutcome::Cleaned { state, dropped } = both(&value) else {
            panic!("32 members and 3 empty ones should be cleaned");
        };
        assert_eq!(state.len(), 32);
        assert_eq!(
            dropped,
            [
                Dropped::EmptyMember { member: 0 },
                Dropped::EmptyMember { member: 33 },
                Dropped::EmptyMember { member: 34 }
            ]
        );
    }

    #[test]
    fn the_member_limit_applies_to_the_combined_fields() {
        // The W3C suite's test_tracestate_member_count_limit split.
        let members: Vec<String> = (1..=33).map(|i| format!("bar{i:02}={i:02}")).collect();
        let fields = [
            members[..10].join(","),
            members[10..20].join(","),
            members[20..30].join(","),
            members[30..].join(","),
        ];
        let fields: Vec<&str> = fields.iter().map(String::as_str).collect();
        assert_eq!(
            parse_tracestate(&fields, L2),
            discarded(TraceStateError::TooManyMembers { count: 33 })
        );
    }

    #[test]
    fn duplicate_key_discards_at_level_1_and_is_dropped_at_level_2() {
        assert_eq!(
            parse_tracestate(&["foo=1,bar=2,foo=3"], L1),
            discarded(TraceStateError::DuplicateKey { key: "foo".into(), first: 0, again: 2 })
        );
        assert_eq!(
            parse_tracestate(&["foo=1,bar=2,foo=3"], L2),
            TraceStateOutcome::Cleaned {
                state: TraceState::from_members([("foo", "1"), ("bar", "2")]),
                dropped: vec![Dropped::DuplicateKey { key: "foo".into(), member: 2, kept: 0 }],
            }
        );
    }

    #[test]
    fn duplicates_across_fields_are_duplicates() {
        // The W3C suite's test_tracestate_duplicated_keys split.
        assert!(matches!(
            parse_tracestate(&["foo=1", "foo=2"], L1),
            TraceStateOutcome::Discarded(TraceStateError::DuplicateKey { .. })
        ));
        assert_eq!(
            parse_tracestate(&["foo=1", "foo=2"], L2).state().map(TraceState::to_header),
            Some("foo=1".into())
        );
    }

    #[test]
    fn empty_members_are_dropped() {
        let cleaned = |pairs: &[(&str, &str)], members: &[usize]| TraceStateOutcome::Cleaned {
            state: TraceState::from_members(pairs.iter().copied()),
            dropped: members.iter().map(|&member| Dropped::EmptyMember { member }).collect(),
        };
        assert_eq!(both("foo=1,,bar=2"), cleaned(&[("foo", "1"), ("bar", "2")], &[1]));
        assert_eq!(both(" , "), cleaned(&[], &[0, 1]));
        // The W3C suite's test_tracestate_empty_header values.
        assert_eq!(both(""), cleaned(&[], &[0]));
        assert_eq!(parse_tracestate(&["foo=1", ""], L2), cleaned(&[("foo", "1")], &[1]));
        assert_eq!(parse_tracestate(&["", "foo=1"], L2), cleaned(&[("foo", "1")], &[0]));
    }

    #[test]
    fn repeated_fields_combine_in_order() {
        // The W3C suite's test_tracestate_multiple_headers_different_keys.
        let outcome = parse_tracestate(&["foo=1,bar=2", "rojo=1,congo=2", "baz=3"], L2);
        assert_eq!(
            outcome.state().map(TraceState::to_header),
            Some("foo=1,bar=2,rojo=1,congo=2,baz=3".into())
        );
    }

    #[test]
    fn the_first_broken_member_decides() {
        assert_eq!(
            both("Foo=1,bar"),
            discarded(TraceStateError::KeyBadFirstCharacter { member: 0, found: 'F' })
        );
        assert_eq!(both("foo=1,bar,=2"), discarded(TraceStateError::MissingEquals { member: 1 }));
    }

    #[test]
    fn to_header_round_trips() {
        for level in [L1, L2] {
            let outcome =
                parse_tracestate(&[" rojo=00f067aa0ba902b7 ,, congo= t61rcWkgMzE"], level);
            let state = outcome.state().expect("valid").clone();
            assert_eq!(state.to_header(), "rojo=00f067aa0ba902b7,congo= t61rcWkgMzE");
            assert_eq!(
                parse_tracestate(&[&state.to_header()], level),
                TraceStateOutcome::Kept(state)
            );
        }
    }

    #[test]
    fn get_returns_the_left_most_value() {
        let state = TraceState::from_members([("congo", "a"), ("rojo", "b")]);
        assert_eq!(state.get("rojo"), Some("b"));
        assert_eq!(state.get("nope"), None);
        assert!(!state.is_empty());
    }

    #[test]
    fn every_error_and_drop_names_its_rule() {
        let errors = [
            (TraceStateError::MissingEquals { member: 0 }, "tracestate: list"),
            (TraceStateError::TooManyMembers { count: 33 }, "tracestate: list"),
            (TraceStateError::EmptyKey { member: 0 }, "tracestate: Key"),
            (TraceStateError::KeyTooLong { member: 0, len: 257 }, "tracestate: Key"),
            (TraceStateError::KeyBadFirstCharacter { member: 0, found: '_' }, "tracestate: Key"),
            (
                TraceStateError::KeyBadCharacter { member: 0, index: 1, found: '.' },
                "tracestate: Key",
            ),
            (
                TraceStateError::TenantIdTooLong { member: 0, len: 242 },
                "tracestate: Key (multi-tenant-key)",
            ),
            (
                TraceStateError::SystemIdTooLong { member: 0, len: 15 },
                "tracestate: Key (multi-tenant-key)",
            ),
            (
                TraceStateError::BadSystemIdStart { member: 0, found: None },
                "tracestate: Key (multi-tenant-key)",
            ),
            (TraceStateError::EmptyValue { member: 0 }, "tracestate: Value"),
            (
                TraceStateError::ValueBadCharacter { member: 0, index: 0, found: '=' },
                "tracestate: Value",
            ),
            (TraceStateError::ValueTooLong { member: 0, len: 257 }, "tracestate: Value"),
            (
                TraceStateError::DuplicateKey { key: "k".into(), first: 0, again: 1 },
                "tracestate: Combined Header Value",
            ),
        ];
        for (error, rule) in errors {
            assert_eq!(error.rule(), rule, "{error:?}");
        }
        assert_eq!(Dropped::EmptyMember { member: 0 }.rule(), "tracestate Header Field Values");
        let duplicate = Dropped::DuplicateKey { key: "k".into(), member: 1, kept: 0 };
        assert_eq!(duplicate.rule(), "Mutating the tracestate Field");
        assert_eq!(TraceStateOutcome::Absent.rule(), "Tracestate Header");
        assert_eq!(kept(&[]).rule(), "tracestate Header Field Values");
        let cleaned =
            TraceStateOutcome::Cleaned { state: TraceState::default(), dropped: vec![duplicate] };
        assert_eq!(cleaned.rule(), "Mutating the tracestate Field");
    }

    #[test]
    fn error_messages() {
        let messages = [
            TraceStateError::MissingEquals { member: 1 },
            TraceStateError::EmptyKey { member: 0 },
            TraceStateError::KeyTooLong { member: 0, len: 257 },
            TraceStateError::KeyBadFirstCharacter { member: 0, found: '_' },
            TraceStateError::KeyBadCharacter { member: 2, index: 3, found: ' ' },
            TraceStateError::TenantIdTooLong { member: 0, len: 242 },
            TraceStateError::SystemIdTooLong { member: 0, len: 15 },
            TraceStateError::BadSystemIdStart { member: 0, found: None },
            TraceStateError::BadSystemIdStart { member: 0, found: Some('1') },
            TraceStateError::EmptyValue { member: 0 },
            TraceStateError::ValueBadCharacter { member: 0, index: 3, found: '=' },
            TraceStateError::ValueTooLong { member: 0, len: 257 },
            TraceStateError::TooManyMembers { count: 33 },
            TraceStateError::DuplicateKey { key: "congo".into(), first: 0, again: 2 },
        ]
        .map(|e| e.to_string())
        .join("\n");
        insta::assert_snapshot!(messages, @r#"
        list-member 1 has no '=' between key and value
        list-member 0 has an empty key
        key of list-member 0 is 257 characters long; at most 256 are allowed
        key of list-member 0 may not start with '_'
        key of list-member 2 has ' ' at byte 3, which keys do not allow
        tenant-id of list-member 0 is 242 characters long; at most 241 are allowed
        system-id of list-member 0 is 15 characters long; at most 14 are allowed
        system-id of list-member 0 is empty
        system-id of list-member 0 starts with '1'; it must start with a-z
        list-member 0 has an empty value
        value of list-member 0 has '=' at byte 3; values allow printable ASCII except ',' and '='
        value of list-member 0 is 257 characters long; at most 256 are allowed
        tracestate has 33 list-members; at most 32 are allowed
        key "congo" appears in list-members 0 and 2; only one entry per key is allowed
        "#);
    }
}
