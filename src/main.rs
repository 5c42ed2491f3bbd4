use clap::Parser;

// Exploration clones and drops millions of small states from several threads;
// mimalloc does that markedly faster than the system allocator.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use tracewright::cli::{run, Cli};

fn main() {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    if let Err(err) = tracewright::cli::env::check(&args) {
        eprint!("{}", err.render());
        std::process::exit(err.exit_code().code());
    }
    let cli = Cli::parse_from(args);
    let code = match run(cli) {
        Ok(code) => code.code(),
        Err(err) => {
            eprint!("{}", err.render());
            err.exit_code().code()
        }
    };
    std::process::exit(code);
}
