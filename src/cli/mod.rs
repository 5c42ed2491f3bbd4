//! The command line: one file per subcommand, each a thin layer over the
//! library. Every option says which flag and which environment variable set
//! it, in one place.

pub mod audit;
pub mod check;
pub mod conform;
pub mod env;
pub mod fuzz_seeds;
mod progress;
pub mod replay;
pub mod serve;
pub mod show;
pub mod sink;

use clap::{Parser, Subcommand};

use crate::error::{ExitCode, Result};

#[derive(Debug, Parser)]
#[command(
    name = "tracewright",
    version,
    about = "Model checker and conformance fuzzer for distributed tracing and durable workflows",
    after_help = "Exit codes: 0 every property came out as its config expects; 1 otherwise; \
                  2 bad input or setup; 3 incomplete (a bound, a timeout, the memory budget or Ctrl-C)."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Explore a spec's state space exhaustively and check its properties.
    Check(check::CheckArgs),
    /// Render a counterexample as a step table or a Mermaid sequence diagram.
    Show(show::ShowArgs),
    /// Replay a counterexample step by step against a system under test.
    Replay(replay::ReplayArgs),
    /// Run random walks of the trace-context model on real SDKs.
    Conform(conform::ConformArgs),
    /// Judge the span invariants over recorded OTLP JSON spans.
    Audit(audit::AuditArgs),
    /// Write every trace-context trace as a seed for the model_actions fuzz target.
    FuzzSeeds(fuzz_seeds::FuzzSeedsArgs),
    /// Receive OTLP traces (HTTP and gRPC) and write them as OTLP JSON lines.
    Sink(sink::SinkArgs),
    /// Run an SDK's instrumented HTTP service for the W3C trace-context test suite.
    Serve(serve::ServeArgs),
}

/// Runs a parsed command line; the error, if any, is an expected failure.
pub fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Check(args) => check::run(args),
        Command::Show(args) => show::run(args),
        Command::Replay(args) => replay::run(args),
        Command::Conform(args) => conform::run(args),
        Command::Audit(args) => audit::run(args),
        Command::FuzzSeeds(args) => fuzz_seeds::run(args),
        Command::Sink(args) => sink::run(args),
        Command::Serve(args) => serve::run(args),
    }
}
