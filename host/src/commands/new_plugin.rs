//! `fuzzaug new-plugin NAME --kind strategy|transform|dataset [--dir DIR] [--sdk-path P | --sdk-git URL [--sdk-rev R]]`.
use crate::setup::PluginFlags;
use crate::{
    cli::NewPluginArgs,
    plugins::{Registry, SearchPath},
    scaffold::{self, SdkSource},
};
use std::path::PathBuf;

/// Writes the crate and says how to build and load it.
pub fn run(args: &NewPluginArgs, cli: &PluginFlags) -> anyhow::Result<u8> {
    scaffold::check_name(&args.name)?;
    let kind = args.kind;
    refuse_taken_name(&args.name, &cli.dirs)?;
    let sdk = match (&args.sdk_git, &args.sdk_path) {
        (Some(url), _) => SdkSource::Git {
            url: url.clone(),
            rev: args.sdk_rev.clone(),
        },
        (None, Some(p)) => SdkSource::Path(p.clone()),
        (None, None) => SdkSource::Path(scaffold::built_sdk_dir()),
    };
    let dir = args
        .dir
        .clone()
        .unwrap_or_else(|| PathBuf::from(&args.name));
    let written = scaffold::write(&dir, &args.name, kind, &sdk)?;
    println!(
        "created the {} plugin `{}` in {}:",
        kind.as_str(),
        args.name,
        dir.display()
    );
    for f in &written {
        println!("  {}", f.display());
    }
    let lib = format!("libfuzzaug_{}.so", args.name.replace('-', "_"));
    println!(
        "\nnext:\n  cd {dir}\n  cargo test && cargo build --release\n  fuzzaug plugins --check target/release/{lib}\n  fuzzaug plugins --plugin-dir {dir}/target/release   # or copy {lib} to a plugin folder",
        dir = dir.display()
    );
    Ok(0)
}

/// Two libraries offering one component name cannot load together: refuse a name already on
/// the search path (a search path that fails to load is not this command's business).
fn refuse_taken_name(name: &str, cli_dirs: &[PathBuf]) -> anyhow::Result<()> {
    let Ok(registry) =
        Registry::discover(&SearchPath::standard(cli_dirs, &[]), &Default::default())
    else {
        return Ok(());
    };
    if let Some((c, lib)) = registry
        .components()
        .into_iter()
        .find(|(c, _)| c.name.as_str() == name)
    {
        anyhow::bail!(
            "a {} named `{name}` already exists ({}); two plugins cannot offer the same name, so pick another",
            c.kind.as_str(),
            lib.path.display()
        );
    }
    Ok(())
}
