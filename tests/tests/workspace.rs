//! The build contract: every workspace member is built and tested by `make` in one of its two
//! groups, and the version pins hold.

fn read(rel: &str) -> String {
    let p = concat!(env!("CARGO_MANIFEST_DIR"), "/../").to_string() + rel;
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{p}: {e}"))
}

/// The `-p` package names of a Makefile variable (continuation lines included).
fn group(makefile: &str, var: &str) -> Vec<String> {
    let start = makefile
        .find(&format!("{var} :="))
        .unwrap_or_else(|| panic!("{var} missing from the Makefile"));
    let mut text = String::new();
    for line in makefile[start..].lines() {
        text.push_str(line.trim_end_matches('\\'));
        if !line.ends_with('\\') {
            break;
        }
    }
    text.split_whitespace()
        .skip_while(|w| *w != "-p")
        .filter(|w| *w != "-p")
        .map(str::to_string)
        .collect()
}

#[test]
fn every_member_is_in_a_make_group() {
    let root: toml::Table = read("Cargo.toml").parse().unwrap();
    let members = root["workspace"]["members"].as_array().unwrap();
    let makefile = read("Makefile");
    let torch = group(&makefile, "TORCH_PKGS");
    let plain = group(&makefile, "PLAIN_PKGS");
    for m in members {
        let manifest: toml::Table = read(&format!("{}/Cargo.toml", m.as_str().unwrap()))
            .parse()
            .unwrap();
        let name = manifest["package"]["name"].as_str().unwrap().to_string();
        assert!(
            torch.contains(&name) || plain.contains(&name),
            "workspace member {name} is in neither TORCH_PKGS nor PLAIN_PKGS of the Makefile"
        );
        let deps = manifest
            .get("dependencies")
            .map(|d| d.to_string())
            .unwrap_or_default();
        if plain.contains(&name) && name != "fuzzaug-sdk" {
            assert!(
                !deps.contains("tensor") && !deps.contains("tch"),
                "{name} is in PLAIN_PKGS but links libtorch"
            );
        }
    }
}

#[test]
fn pins_of_the_design_hold() {
    let root: toml::Table = read("Cargo.toml").parse().unwrap();
    let deps = &root["workspace"]["dependencies"];
    assert_eq!(deps["tch"].as_str(), Some("=0.24.0"));
    assert_eq!(deps["torch-sys"].as_str(), Some("=0.24.0"));
    assert_eq!(deps["abi_stable"].as_str(), Some("=0.11.3"));
    for profile in ["release", "dev"] {
        assert_eq!(
            root["profile"][profile]["panic"].as_str(),
            Some("unwind"),
            "profile.{profile}.panic"
        );
    }
}

/// Every dependency name of a member's manifest (normal, dev and build).
fn dependencies(manifest: &str) -> Vec<String> {
    let t: toml::Table = read(manifest).parse().unwrap();
    ["dependencies", "dev-dependencies", "build-dependencies"]
        .iter()
        .filter_map(|s| t.get(*s)?.as_table())
        .flat_map(|d| d.keys().cloned())
        .collect()
}

/// The layering rules of docs/architecture.md: the SDK knows no host, no plugin depends on the
/// host, the host depends on no plugin crate.
#[test]
fn the_layers_point_one_way() {
    let root: toml::Table = read("Cargo.toml").parse().unwrap();
    let members: Vec<String> = root["workspace"]["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m.as_str().unwrap().to_string())
        .collect();
    let plugins: Vec<&String> = members
        .iter()
        .filter(|m| m.starts_with("plugins/"))
        .collect();
    assert!(plugins.len() >= 9, "{members:?}");
    let plugin_crates: Vec<String> = plugins
        .iter()
        .map(|m| {
            let t: toml::Table = read(&format!("{m}/Cargo.toml")).parse().unwrap();
            t["package"]["name"].as_str().unwrap().to_string()
        })
        .collect();
    for sdk in ["sdk/Cargo.toml", "sdk/build/Cargo.toml"] {
        let deps = dependencies(sdk);
        assert!(
            !deps.iter().any(|d| d == "fuzzaug"),
            "{sdk} depends on the host: {deps:?}"
        );
    }
    for p in &plugins {
        let deps = dependencies(&format!("{p}/Cargo.toml"));
        assert!(
            !deps.iter().any(|d| d == "fuzzaug"),
            "{p} depends on the host: {deps:?}"
        );
    }
    let host = dependencies("host/Cargo.toml");
    let wrong: Vec<&String> = host.iter().filter(|d| plugin_crates.contains(d)).collect();
    assert!(
        wrong.is_empty(),
        "the host depends on plugin crates {wrong:?}"
    );
}
