//! `fuzzaug plugins [--json] [--check LIB.so]`.
use crate::{
    cli::PluginsArgs,
    plugins::{Library, Registry, SearchPath},
};
use fuzzaug_sdk::ComponentInfo;
use serde_json::{json, Value};
use std::path::PathBuf;

fn component_json(c: &ComponentInfo, lib: &Library) -> Value {
    let params: Vec<Value> = c
        .params
        .iter()
        .map(|p| json!({"name": p.name.as_str(), "type": p.ty.as_str(), "default": (!p.default.is_empty()).then(|| p.default.as_str()), "required": p.is_required(), "doc": p.doc.as_str()}))
        .collect();
    json!({
        "kind": c.kind.as_str(),
        "name": c.name.as_str(),
        "library": lib.path.display().to_string(),
        "summary": c.summary.as_str(),
        "parameters": params,
    })
}

fn library_json(lib: &Library) -> Value {
    let fp: serde_json::Map<String, Value> = lib
        .fingerprint
        .fields()
        .iter()
        .map(|(k, v)| (k.to_string(), json!(v)))
        .collect();
    json!({
        "path": lib.path.display().to_string(),
        "sha256": lib.sha256,
        "fingerprint": fp,
        "components": lib.components.iter().map(|c| component_json(c, lib)).collect::<Vec<_>>(),
    })
}

fn print_component(c: &ComponentInfo, lib: &Library) {
    println!(
        "{:<10} {:<16} {}",
        c.kind.as_str(),
        c.name.as_str(),
        c.summary.as_str()
    );
    println!("{:<27} from {}", "", lib.path.display());
    for p in c.params.iter() {
        let default = if p.is_required() {
            "required".to_string()
        } else {
            format!("default {}", p.default)
        };
        println!(
            "{:<27} {} ({}, {default}): {}",
            "",
            p.name.as_str(),
            p.ty.as_str(),
            p.doc.as_str()
        );
    }
}

/// Lists every component, or checks one library.
pub fn run(args: &PluginsArgs, cli_dirs: &[PathBuf]) -> anyhow::Result<u8> {
    if let Some(path) = &args.check {
        let lib = Library::load(path, None)?;
        if args.json {
            println!("{}", serde_json::to_string_pretty(&library_json(&lib))?);
        } else {
            println!("{}: compatible with this fuzzaug", lib.path.display());
            println!("sha256 {}", lib.sha256);
            for (k, v) in lib.fingerprint.fields() {
                println!("  {k:<11} {v}");
            }
            for c in &lib.components {
                print_component(c, &lib);
            }
        }
        return Ok(0);
    }
    let path = SearchPath::standard(cli_dirs, &[]);
    let registry = Registry::discover(&path, &Default::default())?;
    let components = registry.components();
    if args.json {
        let out = json!({
            "search_path": path.dirs().iter().map(|(d, o)| json!({"dir": d.display().to_string(), "from": o})).collect::<Vec<_>>(),
            "libraries": registry.libraries().iter().map(library_json).collect::<Vec<_>>(),
            "components": components.iter().map(|(c, l)| component_json(c, l)).collect::<Vec<_>>(),
        });
        println!("{}", serde_json::to_string_pretty(&out)?);
        return Ok(0);
    }
    if components.is_empty() {
        println!("no plugins found; searched:");
        for (d, o) in path.dirs() {
            println!("  {} ({o})", d.display());
        }
        return Ok(0);
    }
    for (c, lib) in components {
        print_component(c, lib);
    }
    Ok(0)
}
