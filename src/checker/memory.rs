//! The memory a run may use, and what it used.
//!
//! A run has a budget of resident memory: by default what the process holds
//! when it starts plus nine tenths of the machine's `MemAvailable`
//! (`/proc/meminfo`), or `--max-memory SIZE`. The search compares the
//! process's resident set (`/proc/self/statm`) with it before each block of
//! states it expands, and the liveness graph while it is built; over the
//! budget, the run stops like any other bound (exit 3, a partial summary)
//! instead of being killed by the kernel with nothing reported.

use super::{Options, StopReason};

/// Bytes of one page, for `/proc/self/statm`.
fn page_size() -> u64 {
    // SAFETY: sysconf has no preconditions.
    let n = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    if n > 0 { n as u64 } else { 4096 }
}

/// The process's resident set now, in bytes (`None` where /proc is missing).
pub fn resident_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * page_size())
}

/// The largest resident set the process has had, in bytes.
pub fn peak_resident_bytes() -> u64 {
    // SAFETY: getrusage writes into the struct it is given.
    let usage = unsafe {
        let mut u: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_SELF, &mut u);
        u
    };
    (usage.ru_maxrss.max(0) as u64) * 1024
}

/// `MemAvailable` of `/proc/meminfo`, in bytes.
pub fn available_bytes() -> Option<u64> {
    let info = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = info.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// The default budget: resident now plus nine tenths of what is available.
pub fn default_budget() -> Option<u64> {
    let available = available_bytes()?;
    Some(resident_bytes().unwrap_or(0) + available / 10 * 9)
}

/// The stop reason when the process holds more than the run's budget.
pub fn over_budget(options: &Options) -> Option<StopReason> {
    let budget = options.max_memory?;
    let resident = resident_bytes()?;
    (resident > budget).then_some(StopReason::Memory { budget, resident })
}

/// A size as `--max-memory` takes it: bytes, or a number with a unit `K`,
/// `M`, `G` or `T` (powers of 1024; `KiB`, `MB`, `g` … are the same).
pub fn parse_size(text: &str) -> std::result::Result<u64, String> {
    let t = text.trim();
    let split = t.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let number: f64 = number
        .parse()
        .map_err(|_| format!("`{text}` is not a size (expected bytes or a number with K, M, G or T, e.g. 512M or 4G)"))?;
    let shift = match unit.trim().to_ascii_uppercase().trim_end_matches('B').trim_end_matches('I') {
        "" => 0,
        "K" => 10,
        "M" => 20,
        "G" => 30,
        "T" => 40,
        _ => return Err(format!("`{text}` has an unknown unit (expected K, M, G or T, e.g. 512M or 4G)")),
    };
    let bytes = number * (1u64 << shift) as f64;
    if !bytes.is_finite() || bytes < 1.0 || bytes > u64::MAX as f64 {
        return Err(format!("`{text}` is not a size of at least one byte"));
    }
    Ok(bytes as u64)
}

/// A size for people: `512.0 MiB`.
pub fn human(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 { format!("{bytes} B") } else { format!("{value:.1} {}", UNITS[unit]) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_with_binary_units_and_refuse_nonsense() {
        assert_eq!(parse_size("4096"), Ok(4096));
        assert_eq!(parse_size("1K"), Ok(1024));
        assert_eq!(parse_size("512M"), Ok(512 << 20));
        assert_eq!(parse_size("2GiB"), Ok(2 << 30));
        assert_eq!(parse_size("1.5g"), Ok(3 << 29));
        assert!(parse_size("lots").is_err());
        assert!(parse_size("12X").is_err());
        assert!(parse_size("0").is_err());
        assert!(parse_size("").is_err());
    }

    #[test]
    fn a_budget_below_what_the_process_holds_stops_the_run() {
        let resident = resident_bytes().expect("/proc/self/statm");
        assert!(resident > 0);
        let tight = Options { max_memory: Some(1), ..Options::default() };
        assert!(matches!(over_budget(&tight), Some(StopReason::Memory { budget: 1, .. })));
        let roomy = Options { max_memory: Some(u64::MAX), ..Options::default() };
        assert_eq!(over_budget(&roomy), None);
        assert_eq!(human(1536), "1.5 KiB");
    }
}
