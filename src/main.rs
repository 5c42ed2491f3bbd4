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
    // On a thread with the checker workers' stack: loading a spec and
    // evaluating its constants recurse as deep as the workers may.
    let runner = std::thread::Builder::new().name("main".into()).stack_size(tracewright::checker::STACK_SIZE).spawn(move || {
        match run(cli) {
            Ok(code) => code.code(),
            Err(err) => {
                eprint!("{}", err.render());
                err.exit_code().code()
            }
        }
    });
    let code = match runner.map(|r| r.join()) {
        Ok(Ok(code)) => code,
        // It panicked: the panic message is printed already.
        Ok(Err(_)) => 101,
        Err(e) => {
            eprintln!("error: cannot start the main thread: {e}");
            1
        }
    };
    std::process::exit(code);
}
