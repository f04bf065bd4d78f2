//! The `fuzzaug` binary: parse the command line, set up logging, check the libtorch in use,
//! run the command, and turn any error into one paragraph on stderr and a non-zero exit code.
use clap::Parser;
use fuzzaug::{cli::Cli, commands, runtime};
use std::process::ExitCode;

fn init_logging(verbose: u8) {
    let default = match verbose {
        0 => "info",
        1 => "debug",
        _ => "trace",
    };
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or(default))
        .format_timestamp(None)
        .format_target(false)
        .init();
}

fn main() -> ExitCode {
    // Like other Unix tools, end quietly when the reader of stdout goes away (`… | head`)
    // instead of panicking on the broken pipe: Rust ignores SIGPIPE by default.
    // SAFETY: setting a signal's disposition to the default before any thread starts.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let cli = Cli::parse();
    init_logging(cli.verbose);
    if let Err(msg) = runtime::check_libtorch() {
        eprintln!("error: {msg}");
        return ExitCode::FAILURE;
    }
    runtime::set_cpu_threads();
    match commands::dispatch(cli) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("error: {e}");
            for cause in e.chain().skip(1) {
                eprintln!("  caused by: {cause}");
            }
            if e.is::<fuzzaug::run::interrupt::Interrupted>() {
                ExitCode::from(fuzzaug::run::interrupt::EXIT_INTERRUPTED)
            } else {
                ExitCode::FAILURE
            }
        }
    }
}
