//! One module per command; each returns the process exit code.
mod bench;
mod check;
mod compare;
mod eval;
mod fetch;
mod new_plugin;
mod plugins;
mod preview;
mod run;
mod version;

use crate::cli::{Cli, Command};

/// Exit code of a command that is not available in this build yet.
pub const EXIT_NOT_IMPLEMENTED: u8 = 2;

/// Runs the command line.
pub fn dispatch(cli: Cli) -> anyhow::Result<u8> {
    if cli.version {
        version::print();
        return Ok(0);
    }
    let Some(command) = cli.command else {
        anyhow::bail!("no command given; see `fuzzaug --help`");
    };
    let pending = |name: &str, issue: u32| {
        eprintln!("fuzzaug {name}: not implemented yet in this build (planned: issue #{issue})");
        Ok(EXIT_NOT_IMPLEMENTED)
    };
    match command {
        Command::Check(args) => check::run(&args, &cli.plugin_dirs),
        Command::Plugins(args) => plugins::run(&args, &cli.plugin_dirs),
        Command::Run(args) => run::run(&args, &cli.plugin_dirs),
        Command::Eval(args) => eval::run(&args, &cli.plugin_dirs),
        Command::Preview(args) => preview::run(&args, &cli.plugin_dirs),
        Command::Compare(args) => compare::run(&args),
        Command::Fetch(args) => fetch::run(&args),
        Command::Bench(args) => bench::run(&args, &cli.plugin_dirs),
        Command::NewPlugin(args) => new_plugin::run(&args, &cli.plugin_dirs),
        Command::Sweep(_) => pending("sweep", 10),
    }
}
