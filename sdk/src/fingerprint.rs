//! The build fingerprint: what a plugin was built against, compared by the host field by field
//! right after abi_stable's layout check, before any other function of the library is called.
//!
//! The host has already refused a library whose root module declares another SDK version; the
//! fingerprint adds what a version number cannot say (the libtorch a tensor plugin links, the
//! abi_stable, the target), so that such a mismatch gets a message naming the field.
use abi_stable::{std_types::RString, StableAbi};

/// Versions a library was built with. `libtorch` and `cxx11_abi` are `none` for plugins built
/// without the SDK's `tensor` feature; such plugins load into any host of the same SDK version,
/// whatever its libtorch.
#[repr(C)]
#[derive(StableAbi, Debug, Clone, PartialEq, Eq)]
pub struct BuildFingerprint {
    /// The fuzzaug-sdk version (semver), e.g. `1.0.0`.
    pub sdk: RString,
    /// The abi_stable version, e.g. `0.11.3`.
    pub abi_stable: RString,
    /// The tch version the SDK pins, e.g. `0.24.0`.
    pub tch: RString,
    /// The libtorch version with its build suffix, e.g. `2.11.0+cu130`, or `none`.
    pub libtorch: RString,
    /// libtorch's `_GLIBCXX_USE_CXX11_ABI` (`1` or `0`), or `none`.
    pub cxx11_abi: RString,
    /// The Rust target triple, e.g. `x86_64-unknown-linux-gnu`.
    pub target: RString,
}

/// The abi_stable version this SDK is pinned to (checked by a unit test against Cargo.lock).
pub const ABI_STABLE_VERSION: &str = "0.11.3";
/// The tch version this SDK is pinned to.
pub const TCH_VERSION: &str = "0.24.0";

impl BuildFingerprint {
    /// The fingerprint of the code calling it, i.e. of the library the SDK is compiled into.
    pub fn current() -> Self {
        Self {
            sdk: crate::SDK_VERSION.into(),
            abi_stable: ABI_STABLE_VERSION.into(),
            tch: TCH_VERSION.into(),
            libtorch: env!("FUZZAUG_LIBTORCH_VERSION").into(),
            cxx11_abi: env!("FUZZAUG_CXX11_ABI").into(),
            target: env!("FUZZAUG_TARGET").into(),
        }
    }

    /// The fields as (name, value) pairs, in declaration order.
    pub fn fields(&self) -> [(&'static str, &str); 6] {
        [
            ("sdk", self.sdk.as_str()),
            ("abi_stable", self.abi_stable.as_str()),
            ("tch", self.tch.as_str()),
            ("libtorch", self.libtorch.as_str()),
            ("cxx11_abi", self.cxx11_abi.as_str()),
            ("target", self.target.as_str()),
        ]
    }

    /// Every field where a plugin built with `plugin` cannot run in a host built with `self`,
    /// as (field, expected, found). Empty when compatible.
    ///
    /// Rules: the identical SDK version (the SDK version is the ABI version: no older or newer
    /// one, minor or patch, is accepted); identical abi_stable and target; identical tch,
    /// libtorch and C++ ABI unless the plugin links no libtorch (`none`).
    pub fn mismatches(&self, plugin: &Self) -> Vec<Mismatch> {
        let mut out = Vec::new();
        let uses_torch = plugin.libtorch.as_str() != "none";
        for ((name, want), (_, got)) in self.fields().into_iter().zip(plugin.fields()) {
            let torch_field = matches!(name, "tch" | "libtorch" | "cxx11_abi");
            if want != got && (uses_torch || !torch_field) {
                out.push(Mismatch::new(name, want.to_string(), got));
            }
        }
        out
    }
}

/// One incompatible fingerprint field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mismatch {
    /// The field's name, as in [`BuildFingerprint`].
    pub field: &'static str,
    /// What the host accepts.
    pub expected: String,
    /// What the plugin carries.
    pub found: String,
}

impl Mismatch {
    fn new(field: &'static str, expected: String, found: &str) -> Self {
        Self {
            field,
            expected,
            found: found.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fp(sdk: &str, libtorch: &str) -> BuildFingerprint {
        BuildFingerprint {
            sdk: sdk.into(),
            libtorch: libtorch.into(),
            ..BuildFingerprint::current()
        }
    }

    #[test]
    fn identical_is_compatible() {
        let me = BuildFingerprint::current();
        assert!(me.mismatches(&me).is_empty());
    }

    #[test]
    fn only_the_identical_sdk_version_loads() {
        let host = fp("1.2.0", "2.11.0+cu130");
        assert!(host.mismatches(&fp("1.2.0", "2.11.0+cu130")).is_empty());
        for other in ["1.1.5", "1.2.1", "1.3.0", "2.0.0", "garbage"] {
            let m = host.mismatches(&fp(other, "2.11.0+cu130"));
            assert_eq!(
                m,
                vec![Mismatch::new("sdk", "1.2.0".into(), other)],
                "{other}"
            );
        }
    }

    #[test]
    fn torch_fields_only_matter_when_the_plugin_links_torch() {
        let host = fp("1.0.0", "2.11.0+cu130");
        let plain = BuildFingerprint {
            tch: "0.1.0".into(),
            cxx11_abi: "none".into(),
            ..fp("1.0.0", "none")
        };
        assert!(host.mismatches(&plain).is_empty());
        let m = host.mismatches(&fp("1.0.0", "2.10.0+cpu"));
        assert_eq!(
            m,
            vec![Mismatch::new(
                "libtorch",
                "2.11.0+cu130".into(),
                "2.10.0+cpu"
            )]
        );
    }

    #[test]
    fn pinned_versions_match_the_lockfile() {
        let lock = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../Cargo.lock"))
            .expect("Cargo.lock beside the workspace");
        for (name, version) in [("abi_stable", ABI_STABLE_VERSION), ("tch", TCH_VERSION)] {
            let entry = format!("name = \"{name}\"\nversion = \"{version}\"");
            assert!(
                lock.contains(&entry),
                "Cargo.lock does not pin {name} {version}"
            );
        }
    }
}
