//! The plugin registry: where plugin libraries are looked for, how each is
//! opened and checked (what was checked is what is loaded: one descriptor, never reopened by
//! name), the index of their components, and host-side handles that turn every
//! plugin error into one naming the library, the component and the method.
pub mod answers;
mod elf;
mod handles;
pub mod isolate;
mod library;
mod objects;
mod registry;
mod search_path;

pub use handles::{CallError, DatasetHandle, StrategyHandle, TransformHandle};
pub use library::{sha256_hex, sha256_hex_of_digest, Library, LoadError, PluginFile};
pub use objects::{DatasetObj, StrategyObj, TransformObj};
pub use registry::{Refused, Registry, RegistryError};
pub use search_path::{SearchPath, PLUGIN_PATH_ENV};
