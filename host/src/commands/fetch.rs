//! `fuzzaug fetch DATASET --dir DIR [--mirror URL] [--sha256 FILE=HEX]...`.
use crate::{cli::FetchArgs, fetch};
use anyhow::bail;

/// Downloads, verifies and unpacks; prints the config snippet.
pub fn run(args: &FetchArgs) -> anyhow::Result<u8> {
    let mut sha256 = std::collections::BTreeMap::new();
    for s in &args.sha256 {
        let Some((file, hex)) = s.split_once('=') else {
            bail!("`--sha256 {s}`: expected FILE=HEX, e.g. --sha256 cifar-10-binary.tar.gz=<64 hex digits>");
        };
        if hex.len() != 64 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
            bail!("`--sha256 {s}`: the hash must be 64 hex digits");
        }
        sha256.insert(file.to_string(), hex.to_ascii_lowercase());
    }
    let path = fetch::fetch(&fetch::Request {
        dataset: &args.dataset,
        dir: &args.dir,
        mirror: args.mirror.as_deref(),
        sha256,
        quiet: args.quiet,
    })?;
    println!("{} is ready. Use it with:\n", args.dataset);
    println!(
        "[dataset]\nname = \"{}\"\npath = \"{}\"",
        args.dataset,
        path.display()
    );
    Ok(0)
}
