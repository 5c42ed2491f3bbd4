use clap::Parser;

use tracewright::cli::{run, Cli};

fn main() {
    let cli = Cli::parse();
    let code = match run(cli) {
        Ok(code) => code.code(),
        Err(err) => {
            eprint!("{}", err.render());
            err.exit_code().code()
        }
    };
    std::process::exit(code);
}
