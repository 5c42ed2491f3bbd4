//! The character classes of the Trace Context ABNF, one bit each in a table
//! indexed by byte. Whether every byte of a field belongs to a class is then
//! an AND over the field's table entries: no branch per byte, which keeps
//! the reference cheap where it runs most, inside the fuzz targets (whose
//! instrumentation pays for every comparison). Where a check fails, the
//! caller looks for the first offending byte to name it.

/// `HEXDIGLC = DIGIT / "a" / "b" / "c" / "d" / "e" / "f"`.
pub(super) const HEXDIGLC: u8 = 1 << 0;
/// `lcalpha = %x61-7A`.
pub(super) const LCALPHA: u8 = 1 << 1;
/// `lcalpha / DIGIT`: the first character of a Level 2 key.
pub(super) const LCALPHA_DIGIT: u8 = 1 << 2;
/// Level 1 `keychar`: `lcalpha / DIGIT / "_" / "-" / "*" / "/"`.
pub(super) const KEYCHAR: u8 = 1 << 3;
/// Level 2 `keychar`: the Level 1 set and `@`.
pub(super) const KEYCHAR_AT: u8 = 1 << 4;
/// `chr = %x20 / nblk-chr`, `nblk-chr = %x21-2B / %x2D-3C / %x3E-7E`: every
/// printable ASCII character but `,` and `=`.
pub(super) const CHR: u8 = 1 << 5;
/// `OWS`'s characters, SP and HTAB (RFC 9110 §5.6.3).
pub(super) const OWS: u8 = 1 << 6;

const fn classes_of(b: u8) -> u8 {
    let digit = b.is_ascii_digit();
    let lcalpha = b.is_ascii_lowercase();
    let keychar = lcalpha || digit || matches!(b, b'_' | b'-' | b'*' | b'/');
    let mut classes = 0;
    if digit || matches!(b, b'a'..=b'f') {
        classes |= HEXDIGLC;
    }
    if lcalpha {
        classes |= LCALPHA;
    }
    if lcalpha || digit {
        classes |= LCALPHA_DIGIT;
    }
    if keychar {
        classes |= KEYCHAR;
    }
    if keychar || b == b'@' {
        classes |= KEYCHAR_AT;
    }
    if matches!(b, 0x20..=0x7e) && b != b',' && b != b'=' {
        classes |= CHR;
    }
    if matches!(b, b' ' | b'\t') {
        classes |= OWS;
    }
    classes
}

static TABLE: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut b = 0;
    while b < 256 {
        table[b] = classes_of(b as u8);
        b += 1;
    }
    table
};

/// Whether byte `b` is in `class`.
pub(super) fn is(b: u8, class: u8) -> bool {
    TABLE[usize::from(b)] & class != 0
}

/// Whether every byte of `bytes` is in `class` (true for no bytes).
pub(super) fn all(bytes: &[u8], class: u8) -> bool {
    bytes.iter().fold(class, |acc, &b| acc & TABLE[usize::from(b)]) != 0
}

/// The index of the first byte of `bytes` not in `class`.
pub(super) fn first_not(bytes: &[u8], class: u8) -> Option<usize> {
    if all(bytes, class) { None } else { bytes.iter().position(|&b| !is(b, class)) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_follow_the_abnf() {
        let members = |class| (0..=255u8).filter(|&b| is(b, class)).collect::<Vec<u8>>();
        assert_eq!(members(HEXDIGLC), b"0123456789abcdef");
        assert_eq!(members(LCALPHA), b"abcdefghijklmnopqrstuvwxyz");
        assert_eq!(members(LCALPHA_DIGIT), b"0123456789abcdefghijklmnopqrstuvwxyz");
        assert_eq!(members(KEYCHAR), b"*-/0123456789_abcdefghijklmnopqrstuvwxyz");
        assert_eq!(members(KEYCHAR_AT), b"*-/0123456789@_abcdefghijklmnopqrstuvwxyz");
        assert_eq!(members(OWS), b"\t ");
        let chr = members(CHR);
        assert_eq!(chr.len(), 95 - 2);
        assert!(!chr.contains(&b',') && !chr.contains(&b'=') && chr.contains(&b' '));
    }

    #[test]
    fn all_and_first_not_agree() {
        assert!(all(b"", KEYCHAR));
        assert!(all(b"rojo", KEYCHAR));
        assert_eq!(first_not(b"rojo", KEYCHAR), None);
        assert!(!all(b"ro.jo", KEYCHAR));
        assert_eq!(first_not(b"ro.jo", KEYCHAR), Some(2));
        assert_eq!(first_not(b"ab\xc3\xa9", HEXDIGLC), Some(2));
    }
}
