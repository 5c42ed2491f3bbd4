//! Environment variables. Every option of every command can be set by one
//! variable, `TRACEWRIGHT_<COMMAND>_<OPTION>` (`TRACEWRIGHT_CHECK_MAX_STATES`,
//! `TRACEWRIGHT_FUZZ_SEEDS_OUT`), except the few that mean one thing to every
//! command that has them and keep one shared name: [`SHARED`]. clap reads
//! them (`env =` on each option) and `--help` shows them.
//!
//! Before clap parses, [`check`] makes two things errors that would
//! otherwise pass unnoticed: a variable of the command being run whose value
//! does not parse (the message names the variable, not only the option), and
//! a variable of an earlier naming that nothing reads any more.

use std::ffi::OsString;

use clap::CommandFactory as _;

use crate::error::{Error, Result};

/// Variables that are not `TRACEWRIGHT_<COMMAND>_<OPTION>`, and why.
pub const SHARED: &[(&str, &str)] = &[
    ("TRACEWRIGHT_THREADS", "check's --threads: worker threads"),
    ("TRACEWRIGHT_SPECS", "check's --specs, and where show, replay and fuzz-seeds find specs"),
    ("TRACEWRIGHT_PROGRESS", "check's --progress: the progress line on stderr"),
];

/// Names an earlier tracewright read, with the names that replace them.
const RETIRED: &[(&str, &str)] = &[
    ("TRACEWRIGHT_FORMAT", "TRACEWRIGHT_CHECK_FORMAT (or TRACEWRIGHT_CONFORM_FORMAT)"),
    ("TRACEWRIGHT_OUT", "TRACEWRIGHT_CHECK_OUT (or TRACEWRIGHT_CONFORM_OUT)"),
    ("TRACEWRIGHT_MAX_STATES", "TRACEWRIGHT_CHECK_MAX_STATES"),
    ("TRACEWRIGHT_MAX_DEPTH", "TRACEWRIGHT_CHECK_MAX_DEPTH"),
    ("TRACEWRIGHT_TIMEOUT", "TRACEWRIGHT_CHECK_TIMEOUT"),
    ("TRACEWRIGHT_SUT", "TRACEWRIGHT_REPLAY_SUT"),
    ("TRACEWRIGHT_SUTS", "TRACEWRIGHT_CONFORM_SUT"),
    ("TRACEWRIGHT_CASES", "TRACEWRIGHT_CONFORM_CASES"),
    ("TRACEWRIGHT_SEED", "TRACEWRIGHT_CONFORM_SEED"),
    ("TRACEWRIGHT_EXPECTATIONS", "TRACEWRIGHT_CONFORM_EXPECTATIONS"),
];

/// Every (command, option, variable) of the command line, for the README
/// and its test.
pub fn all() -> Vec<(String, String, String)> {
    let cli = super::Cli::command();
    let mut out = Vec::new();
    for sub in cli.get_subcommands() {
        for arg in sub.get_arguments() {
            if let Some(env) = arg.get_env() {
                let option = arg.get_long().map(|l| format!("--{l}")).unwrap_or_else(|| arg.get_id().to_string());
                out.push((sub.get_name().to_string(), option, env.to_string_lossy().into_owned()));
            }
        }
    }
    out
}

/// The variable name the scheme gives an option of a command.
pub fn scheme_name(command: &str, long: &str) -> String {
    format!("TRACEWRIGHT_{}_{}", command.to_uppercase().replace('-', "_"), long.to_uppercase().replace('-', "_"))
}

/// Refuses, before parsing, a retired variable and a variable of the command
/// in `args` whose value the option would not accept.
pub fn check(args: &[OsString]) -> Result<()> {
    for (old, new) in RETIRED {
        if std::env::var_os(old).is_some() {
            return Err(Error::usage(
                format!("environment variable {old} is no longer read"),
                Some(&format!("set {new} instead, or unset {old}")),
            ));
        }
    }
    let cli = super::Cli::command();
    // The subcommand is the first argument that names one.
    let Some(sub) = args.iter().skip(1).find_map(|a| cli.find_subcommand(a.to_str()?)) else {
        return Ok(());
    };
    for arg in sub.get_arguments() {
        let Some(name) = arg.get_env() else { continue };
        let Some(value) = std::env::var_os(name) else { continue };
        let parts: Vec<OsString> = match (arg.get_value_delimiter(), value.to_str()) {
            (Some(d), Some(text)) => text.split(d).map(OsString::from).collect(),
            _ => vec![value.clone()],
        };
        // The option's own value parser, on an option that takes the value
        // (a flag's parser reads the variable as clap does).
        let probe = clap::Command::new("env").no_binary_name(true).arg(
            clap::Arg::new("value").long("value").num_args(1).action(clap::ArgAction::Append).value_parser(arg.get_value_parser().clone()),
        );
        for part in parts {
            if let Err(e) = probe.clone().try_get_matches_from([OsString::from("--value"), part]) {
                let option = arg.get_long().map(|l| format!("--{l}")).unwrap_or_else(|| arg.get_id().to_string());
                let text = e.to_string();
                let first = text.lines().next().unwrap_or("").trim_start_matches("error: ");
                let first = first.replace(" for '--value <value>'", "");
                let mut why = first.split_once("': ").map_or(first.as_str(), |(_, why)| why).to_string();
                if let Some(values) = text.lines().find(|l| l.contains("possible values")) {
                    why = format!("{why} {}", values.trim());
                }
                return Err(Error::usage(
                    format!("environment variable {}={:?} is not a valid {option}: {why}", name.to_string_lossy(), value.to_string_lossy()),
                    Some(&format!("fix or unset {}; `tracewright {} --help` lists what {option} accepts", name.to_string_lossy(), sub.get_name())),
                ));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_option_has_one_variable_of_the_scheme_or_a_shared_one() {
        let cli = super::super::Cli::command();
        let mut seen = std::collections::BTreeMap::new();
        for sub in cli.get_subcommands() {
            for arg in sub.get_arguments() {
                let Some(long) = arg.get_long() else { continue };
                if matches!(long, "help" | "version") {
                    continue;
                }
                let env = arg.get_env().map(|e| e.to_string_lossy().into_owned());
                let env = env.unwrap_or_else(|| panic!("{} --{long} has no environment variable", sub.get_name()));
                let shared = SHARED.iter().any(|(n, _)| *n == env);
                assert!(
                    shared || env == scheme_name(sub.get_name(), long),
                    "{} --{long} reads {env}, not {}",
                    sub.get_name(),
                    scheme_name(sub.get_name(), long)
                );
                if !shared {
                    assert!(seen.insert(env.clone(), sub.get_name()).is_none(), "{env} read twice");
                }
            }
        }
        assert!(seen.len() >= 15, "{seen:?}");
    }
}
