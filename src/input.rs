//! Reading an input file the one way every parser here reads: check what the
//! path is before opening it (a FIFO would block, a directory cannot be read,
//! a symlink loop cannot be resolved), bound its size, then refuse bytes no
//! parser should have to guess about — invalid UTF-8, NUL, a byte order mark,
//! CR LF line endings, an overlong line — each with the line and column and
//! the name of the limit it broke.
//!
//! JSON inputs get one more pass, [`check_json`], before `serde_json` sees
//! them: nesting depth and members per object or array against the surface's
//! own limits, and duplicate keys, which `serde_json` would let the last one
//! win for a map (a derived struct refuses them, a `Value` does not). Depth is
//! bounded here well below `serde_json`'s own recursion limit (128, which
//! `from_str` applies to any target type and reports as "recursion limit
//! exceeded"), so the message names tracewright's limit, and code that walks a
//! parsed value recursively never sees more than that depth.

use std::collections::HashSet;
use std::io::Read as _;
use std::path::Path;

use crate::error::{Diagnostic, Error, Location, Result};

/// The bounds one input surface enforces. Each is named in the error that
/// reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// What the file is, for messages: "config", "spec", "trace", …
    pub what: &'static str,
    /// `max file size`, in bytes.
    pub bytes: u64,
    /// `max line length`, in bytes.
    pub line: usize,
    /// `max nesting depth`: brackets (JSON, `.cfg` sets, TLA+ expressions).
    pub depth: usize,
    /// `max members`: entries of one set, list, object or array.
    pub members: usize,
    /// What a right file looks like, for the hint.
    pub expected: &'static str,
    /// What reading it is called in an I/O error ("read trace").
    pub action: &'static str,
}

const KIB: u64 = 1024;
const MIB: u64 = 1024 * KIB;

/// A TLC config (`check`).
pub const CFG: Limits = Limits {
    what: "config",
    bytes: MIB,
    line: 64 * KIB as usize,
    depth: 64,
    members: 10_000,
    expected: "a TLC .cfg file: plain UTF-8 text with LF line endings",
    action: "read config",
};

/// A TLA+ module (`check`): its constant definitions are evaluated.
pub const TLA: Limits = Limits {
    what: "spec",
    bytes: 4 * MIB,
    line: 64 * KIB as usize,
    depth: 64,
    members: 10_000,
    expected: "a TLA+ module: plain UTF-8 text with LF line endings",
    action: "read spec",
};

/// A counterexample trace (`show`, `replay`, `fuzz-seeds`).
pub const TRACE: Limits = Limits {
    what: "trace",
    bytes: 64 * MIB,
    line: MIB as usize,
    depth: 64,
    members: 1_000_000,
    expected: "an ITF trace written by `tracewright check` or `conform`",
    action: "read trace",
};

/// Recorded spans (`audit`).
pub const OTLP: Limits = Limits {
    what: "spans file",
    bytes: 256 * MIB,
    line: 32 * MIB as usize,
    depth: 64,
    members: 1_000_000,
    expected: "OTLP JSON: one ExportTraceServiceRequest, or a collector file exporter's JSON lines",
    action: "read spans",
};

/// One case of a `conform --corpus` directory.
pub const CORPUS_CASE: Limits = Limits {
    what: "corpus case",
    bytes: MIB,
    line: 64 * KIB as usize,
    depth: 8,
    members: 1_024,
    expected: "{\"traceparent\": [\"…\"], \"tracestate\": [\"…\", \"…\"]}: lists of field values, a missing key for an absent header",
    action: "read the corpus case",
};

/// How many `*.json` files one corpus directory may hold.
pub const CORPUS_MAX_CASES: usize = 100_000;

/// The expectations file (`conform`, the fuzz targets).
pub const EXPECTATIONS: Limits = Limits {
    what: "expectations file",
    bytes: 16 * MIB,
    line: 64 * KIB as usize,
    depth: 8,
    members: 100_000,
    expected: "{\"version\": 1, \"divergences\": [...]} as in src/expectations.rs",
    action: "read expectations",
};

/// Makes an input error of the right kind (trace, spec, corpus, …).
pub type Wrap = fn(Diagnostic) -> Error;

fn diagnostic(path: &Path, line: Option<usize>, column: Option<usize>, headline: String, limits: &Limits) -> Diagnostic {
    let location = match (line, column) {
        (Some(l), Some(c)) => Location::at_column(path, l, c),
        (Some(l), None) => Location::at(path, l),
        _ => Location::file(path),
    };
    Diagnostic::new(location, headline).evidence("expected", limits.expected)
}

/// What a path names, before anything opens it. A FIFO, socket or device is
/// refused here, so reading one never blocks; a symlink that does not
/// resolve (a loop, or a dangling link) is named as such.
pub fn check_file(path: &Path, limits: &Limits, wrap: Wrap) -> Result<u64> {
    let bad = |headline: String, hint: &str| Err(wrap(diagnostic(path, None, None, headline, limits).hint(hint.to_string())));
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) => {
            if std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink()) {
                return bad(
                    format!("{} is a symbolic link that does not resolve ({e})", limits.what),
                    "the link points at itself, in a loop, or at nothing; give the file it should point at",
                );
            }
            return Err(Error::io(path, limits.action, e));
        }
    };
    let kind = meta.file_type();
    if kind.is_dir() {
        return bad(format!("{} path is a directory, not a file", limits.what), "give the path of a file");
    }
    if !kind.is_file() {
        return bad(format!("{} path is {}, not a regular file", limits.what, special_kind(&kind)), "give the path of a regular file; tracewright does not read pipes or devices");
    }
    if meta.len() > limits.bytes {
        return bad(
            format!("{} is {} bytes; the limit `max file size` is {} bytes", limits.what, meta.len(), limits.bytes),
            "check that the right file was given",
        );
    }
    Ok(meta.len())
}

#[cfg(unix)]
fn special_kind(kind: &std::fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt as _;
    if kind.is_fifo() {
        "a FIFO (named pipe)"
    } else if kind.is_socket() {
        "a socket"
    } else if kind.is_char_device() || kind.is_block_device() {
        "a device"
    } else {
        "not a regular file"
    }
}

#[cfg(not(unix))]
fn special_kind(_: &std::fs::FileType) -> &'static str {
    "not a regular file"
}

/// Reads a whole input file as text, refusing everything the module
/// documentation lists.
pub fn read_text(path: &Path, limits: &Limits, wrap: Wrap) -> Result<String> {
    check_file(path, limits, wrap)?;
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, limits.action, e))?;
    let mut bytes = Vec::new();
    // The file may have grown since it was looked at.
    file.take(limits.bytes + 1).read_to_end(&mut bytes).map_err(|e| Error::io(path, limits.action, e))?;
    if bytes.len() as u64 > limits.bytes {
        return Err(wrap(
            diagnostic(path, None, None, format!("{} is over the limit `max file size` of {} bytes", limits.what, limits.bytes), limits)
                .hint("check that the right file was given"),
        ));
    }
    text_of(path, bytes, limits, wrap)
}

/// The checks of [`read_text`] on bytes already in memory.
pub fn text_of(path: &Path, bytes: Vec<u8>, limits: &Limits, wrap: Wrap) -> Result<String> {
    let at = |offset: usize, headline: String, hint: &str| {
        let (line, column) = position(&bytes, offset);
        Err(wrap(diagnostic(path, Some(line), Some(column), headline, limits).hint(hint.to_string())))
    };
    if bytes.starts_with(&[0xEF, 0xBB, 0xBF]) {
        return at(0, format!("{} starts with a UTF-8 byte order mark", limits.what), "save the file as UTF-8 without a BOM");
    }
    if let Err(e) = std::str::from_utf8(&bytes) {
        return at(e.valid_up_to(), format!("{} is not valid UTF-8", limits.what), "check that the right file was given; tracewright reads UTF-8 text");
    }
    if let Some(i) = bytes.iter().position(|&b| b == 0) {
        return at(i, format!("{} holds a NUL byte", limits.what), "check that the right file was given; a text file holds no NUL bytes");
    }
    if let Some(i) = bytes.iter().position(|&b| b == b'\r') {
        return at(
            i,
            format!("{} has a carriage return (CR LF or CR line endings)", limits.what),
            "save the file with LF line endings (e.g. `dos2unix FILE`)",
        );
    }
    for (number, line) in bytes.split(|&b| b == b'\n').enumerate() {
        if line.len() > limits.line {
            return Err(wrap(
                diagnostic(
                    path,
                    Some(number + 1),
                    None,
                    format!("line {} is {} bytes long; the limit `max line length` is {} bytes", number + 1, line.len(), limits.line),
                    limits,
                )
                .hint("check that the right file was given"),
            ));
        }
    }
    // Every check above passed on valid UTF-8.
    String::from_utf8(bytes).map_err(|e| Error::io(path, "read", std::io::Error::new(std::io::ErrorKind::InvalidData, e)))
}

/// 1-based line and column (in characters) of a byte offset.
pub fn position(bytes: &[u8], offset: usize) -> (usize, usize) {
    let before = &bytes[..offset.min(bytes.len())];
    let line = 1 + before.iter().filter(|&&b| b == b'\n').count();
    let line_start = before.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    // Count characters, not bytes: UTF-8 continuation bytes do not start one.
    let column = 1 + before[line_start..].iter().filter(|&&b| b & 0xC0 != 0x80).count();
    (line, column)
}

enum Frame {
    Array { members: usize },
    Object { members: usize, keys: HashSet<String>, expect_key: bool },
}

/// Bounds a JSON text (one or more top-level values) before it is parsed:
/// nesting depth and members per container against `limits`, and no key twice
/// in one object. Syntax is left to `serde_json`; this pass only reads
/// brackets, commas, colons and strings.
pub fn check_json(path: &Path, text: &str, limits: &Limits, wrap: Wrap) -> Result<()> {
    let bytes = text.as_bytes();
    let mut stack: Vec<Frame> = Vec::new();
    let fail = |offset: usize, headline: String, hint: &str| {
        let (line, column) = position(bytes, offset);
        Err(wrap(diagnostic(path, Some(line), Some(column), headline, limits).hint(hint.to_string())))
    };
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'{' | b'[' => {
                if stack.len() >= limits.depth {
                    return fail(
                        i,
                        format!("{} nests deeper than the limit `max nesting depth` of {}", limits.what, limits.depth),
                        "no valid file of this kind nests that deep; check that the right file was given",
                    );
                }
                stack.push(if bytes[i] == b'{' {
                    Frame::Object { members: 0, keys: HashSet::new(), expect_key: true }
                } else {
                    Frame::Array { members: 0 }
                });
            }
            b'}' | b']' => {
                stack.pop();
            }
            b',' => {
                let count = match stack.last_mut() {
                    Some(Frame::Array { members }) => {
                        *members += 1;
                        *members
                    }
                    Some(Frame::Object { members, expect_key, .. }) => {
                        *expect_key = true;
                        *members += 1;
                        *members
                    }
                    None => 0,
                };
                // `count` commas separate count + 1 members.
                if count >= limits.members {
                    return fail(
                        i,
                        format!("{} has an object or array of more than the limit `max members` of {}", limits.what, limits.members),
                        "check that the right file was given",
                    );
                }
            }
            b'"' => {
                let start = i + 1;
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
                let end = i.min(bytes.len());
                if let Some(Frame::Object { keys, expect_key, .. }) = stack.last_mut() {
                    if *expect_key {
                        *expect_key = false;
                        let key = &text[start..end];
                        if !keys.insert(key.to_string()) {
                            return fail(
                                start - 1,
                                format!("{} has the key \"{key}\" twice in one object", limits.what),
                                "a JSON object holds each key once; remove one of them",
                            );
                        }
                    }
                }
            }
            b'-' | b'0'..=b'9' => {
                let start = i;
                while i + 1 < bytes.len() && matches!(bytes[i + 1], b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9') {
                    i += 1;
                }
                let number = &text[start..=i];
                // What parses as no finite f64 fits no field anywhere; a
                // reader that skips the field must not skip the check.
                if number.parse::<f64>().is_ok_and(|n| !n.is_finite()) {
                    return fail(
                        start,
                        format!("{} holds the number {} which is out of range", limits.what, shorten(number)),
                        "no field of this file holds a number that large",
                    );
                }
            }
            _ => {}
        }
        i += 1;
    }
    Ok(())
}

fn shorten(text: &str) -> String {
    if text.len() <= 40 { text.to_string() } else { format!("{}… ({} characters)", &text[..40], text.len()) }
}

/// A `serde_json` error as a diagnostic at its line and column.
pub fn json_error(path: &Path, e: &serde_json::Error, headline: &str, limits: &Limits) -> Diagnostic {
    let line = (e.line() > 0).then_some(e.line());
    let column = (e.column() > 0).then_some(e.column());
    let headline = if e.is_eof() { format!("{} is truncated", limits.what) } else { headline.to_string() };
    diagnostic(path, line, column, headline, limits).evidence("parser", e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wrap(d: Diagnostic) -> Error {
        Error::Trace(d)
    }

    fn json(text: &str, limits: &Limits) -> String {
        match check_json(Path::new("f.json"), text, limits, wrap) {
            Ok(()) => "ok".into(),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn bounds_depth_members_and_duplicate_keys() {
        let deep = "[".repeat(65) + &"]".repeat(65);
        assert!(json(&deep, &TRACE).contains("f.json:1:65: trace nests deeper than the limit `max nesting depth` of 64"), "{}", json(&deep, &TRACE));
        assert_eq!(json(&("[".repeat(64) + &"]".repeat(64)), &TRACE), "ok");
        assert!(json("{\"a\": 1,\n \"a\": 2}", &TRACE).contains("f.json:2:2: trace has the key \"a\" twice"));
        assert_eq!(json("{\"a\": {\"a\": 1}, \"b\": \"a\"}", &TRACE), "ok");
        let many = format!("[{}]", vec!["1"; 1025].join(","));
        assert!(json(&many, &CORPUS_CASE).contains("`max members` of 1024"));
        assert_eq!(json(&format!("[{}]", vec!["1"; 1024].join(",")), &CORPUS_CASE), "ok");
        // Brackets inside strings do not nest.
        assert_eq!(json(&format!("\"{}\"", "[".repeat(100)), &TRACE), "ok");
        assert!(json("{\"a\": [1, 1e400]}", &TRACE).contains("f.json:1:11: trace holds the number 1e400 which is out of range"), "{}", json("{\"a\": [1, 1e400]}", &TRACE));
        assert_eq!(json("{\"a\": [-1.5e3, 184467440737095516150]}", &TRACE), "ok");
    }

    #[test]
    fn refuses_bytes_no_parser_should_guess_about() {
        let text = |b: &[u8]| match text_of(Path::new("f"), b.to_vec(), &CFG, wrap) {
            Ok(_) => "ok".to_string(),
            Err(e) => e.to_string(),
        };
        assert!(text(b"\xEF\xBB\xBFINIT").contains("f:1:1: config starts with a UTF-8 byte order mark"));
        assert!(text(b"ok\nab\xff").contains("f:2:3: config is not valid UTF-8"));
        assert!(text(b"x\n\ny\0").contains("f:3:2: config holds a NUL byte"));
        assert!(text(b"x\r\n").contains("f:1:2: config has a carriage return"));
        let long = vec![b'a'; CFG.line + 1];
        assert!(text(&long).contains("f:1: line 1 is 65537 bytes long; the limit `max line length` is 65536 bytes"));
        assert_eq!(text(b"\xc3\xa9 fine\n"), "ok");
    }
}
