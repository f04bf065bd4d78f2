//! One module per command; each returns the process exit code.
mod bench;
mod check;
mod compare;
mod eval;
mod export;
mod fetch;
mod new_plugin;
mod plugins;
mod preview;
mod run;
mod sweep;
mod target;
mod version;

use crate::cli::{Cli, Command};

/// Runs the command line.
pub fn dispatch(cli: Cli) -> anyhow::Result<u8> {
    if cli.version {
        version::print();
        return Ok(0);
    }
    let Some(command) = cli.command else {
        anyhow::bail!("no command given; see `fuzzaug --help`");
    };
    match command {
        Command::Check(args) => check::run(&args, &cli.plugin_dirs),
        Command::Plugins(args) => plugins::run(&args, &cli.plugin_dirs),
        Command::Run(args) => run::run(&args, &cli.plugin_dirs),
        Command::Eval(args) => eval::run(&args, &cli.plugin_dirs),
        Command::Export(args) => export::run(&args, &cli.plugin_dirs),
        Command::Preview(args) => preview::run(&args, &cli.plugin_dirs),
        Command::Compare(args) => compare::run(&args),
        Command::Fetch(args) => fetch::run(&args),
        Command::Bench(args) => bench::run(&args, &cli.plugin_dirs),
        Command::NewPlugin(args) => new_plugin::run(&args, &cli.plugin_dirs),
        Command::Sweep(args) => sweep::run(&args, &cli.plugin_dirs),
    }
}
