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
    let flags = crate::setup::PluginFlags {
        dirs: cli.plugin_dirs,
        isolate: cli.isolate,
    };
    match command {
        Command::Check(args) => check::run(&args, &flags),
        Command::Plugins(args) => plugins::run(&args, &flags),
        Command::Run(args) => run::run(&args, &flags),
        Command::Eval(args) => eval::run(&args, &flags),
        Command::Export(args) => export::run(&args, &flags),
        Command::Preview(args) => preview::run(&args, &flags),
        Command::Compare(args) => compare::run(&args),
        Command::Fetch(args) => fetch::run(&args),
        Command::Bench(args) => bench::run(&args, &flags),
        Command::NewPlugin(args) => new_plugin::run(&args, &flags),
        Command::Sweep(args) => sweep::run(&args, &flags),
        Command::PluginChild(args) => {
            crate::plugins::isolate::child::serve(&args.library, args.sha256.as_deref())
        }
    }
}
