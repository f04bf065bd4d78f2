//! `fuzzaug plugins [--json] [--check LIB.so]`.
//!
//! The listing shows the libraries on the search path that were refused, with the reason; a
//! refused library fails only `--check`, which loads the one file it is given.
//!
//! Each transform is also built once with its default settings, so that the listing shows the
//! gene it contributes as the plugin declares it ([`TransformInfo`]): limits, identity, unit,
//! default range and step, and mutation steps.
use crate::setup::PluginFlags;
use crate::{
    cli::PluginsArgs,
    plugins::{Library, Registry, SearchPath},
};
use fuzzaug_sdk::{ComponentContext, ComponentInfo, ComponentKind, PluginError, TransformInfo};
use serde_json::{json, Value};

/// The gene transform component `c` of `lib` declares, built with its default settings; `None`
/// for other kinds, an error message when the plugin cannot build it without settings.
fn gene_info(c: &ComponentInfo, lib: &Library) -> Option<Result<TransformInfo, String>> {
    if c.kind != ComponentKind::Transform {
        return None;
    }
    // The component line above names the component and its library; a panic's message names
    // the method too.
    let failed = |method: &str, e: PluginError| {
        if e.panicked {
            e.message.to_string()
        } else {
            format!("`{method}` failed: {e}")
        }
    };
    let ctx = ComponentContext {
        seed: 0,
        config_dir: ".".into(),
    };
    Some(
        lib.new_transform(c.name.as_str(), "", &ctx)
            .into_result()
            .map_err(|e| failed("new", e))
            .and_then(|t| t.info().into_result().map_err(|e| failed("info", e))),
    )
}

fn gene_json(g: &TransformInfo) -> Value {
    json!({
        "name": g.gene.as_str(),
        "kind": g.kind.as_str(),
        "unit": g.unit.as_str(),
        "limits": g.limits,
        "identity": g.identity,
        "default_range": g.default_range,
        "default_step": g.default_step.into_option(),
        "mutation_step": g.mutation_step,
        "low_loss_mutation_step": g.low_loss_mutation_step,
    })
}

/// One line: `gene rotation (geometric): limits -180..180, identity 0, unit degrees, ...`.
fn gene_line(g: &TransformInfo) -> String {
    let step = match g.default_step.into_option() {
        Some(s) => format!("default step {s}"),
        None => "no default step (continuous)".to_string(),
    };
    format!(
        "gene {} ({}): limits {}..{}, identity {}, unit {}, default range {}..{}, {step}, mutation step {} ({} when the loss is tiny)",
        g.gene.as_str(),
        g.kind.as_str(),
        g.limits[0],
        g.limits[1],
        g.identity,
        g.unit.as_str(),
        g.default_range[0],
        g.default_range[1],
        g.mutation_step,
        g.low_loss_mutation_step
    )
}

fn component_json(c: &ComponentInfo, lib: &Library) -> Value {
    let params: Vec<Value> = c
        .params
        .iter()
        .map(|p| json!({"name": p.name.as_str(), "type": p.ty.as_str(), "default": (!p.default.is_empty()).then(|| p.default.as_str()), "required": p.is_required(), "doc": p.doc.as_str()}))
        .collect();
    let mut v = json!({
        "kind": c.kind.as_str(),
        "name": c.name.as_str(),
        "library": lib.path.display().to_string(),
        "summary": c.summary.as_str(),
        "parameters": params,
    });
    match gene_info(c, lib) {
        Some(Ok(g)) => v["gene"] = gene_json(&g),
        Some(Err(e)) => {
            v["gene"] = Value::Null;
            v["gene_error"] = json!(e);
        }
        None => {}
    }
    v
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
        "isolated": lib.is_isolated(),
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
    match gene_info(c, lib) {
        Some(Ok(g)) => println!("{:<27} {}", "", gene_line(&g)),
        Some(Err(e)) => println!("{:<27} gene not shown: {e}", ""),
        None => {}
    }
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
pub fn run(args: &PluginsArgs, cli: &PluginFlags) -> anyhow::Result<u8> {
    if let Some(path) = &args.check {
        // What loading runs (the library's initialisers, `fingerprint()`, `components()`)
        // runs in a child first: a library that crashes there is reported, not fatal.
        drop(Library::isolated(path, None)?);
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
    let path = SearchPath::standard(&cli.dirs, &[]);
    let registry = Registry::discover_with(&path, &Default::default(), false, &cli.isolate)?;
    let components = registry.components();
    if args.json {
        let out = json!({
            "search_path": path.dirs().iter().map(|(d, o)| json!({"dir": d.display().to_string(), "from": o})).collect::<Vec<_>>(),
            "libraries": registry.libraries().iter().map(library_json).collect::<Vec<_>>(),
            "components": components.iter().map(|(c, l)| component_json(c, l)).collect::<Vec<_>>(),
            "refused": registry.refused().iter().map(|r| json!({"path": r.path.display().to_string(), "error": r.reason})).collect::<Vec<_>>(),
        });
        println!("{}", serde_json::to_string_pretty(&out)?);
        return Ok(0);
    }
    if components.is_empty() {
        println!("no plugins found; searched:");
        for (d, o) in path.dirs() {
            println!("  {} ({o})", d.display());
        }
    }
    for (c, lib) in components {
        print_component(c, lib);
    }
    print_refused(&registry);
    Ok(0)
}

/// The libraries on the search path that were not loaded, each with the reason.
fn print_refused(registry: &Registry) {
    if registry.refused().is_empty() {
        return;
    }
    println!("refused libraries (their components are not available):");
    for r in registry.refused() {
        let mut lines = r.reason.lines();
        println!("  {}", lines.next().unwrap_or_default());
        for l in lines {
            println!("    {l}");
        }
    }
}
