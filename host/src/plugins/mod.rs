//! The plugin registry: where plugin libraries are looked for, how each is
//! opened and checked, the index of their components, and host-side handles that turn every
//! plugin error into one naming the library, the component and the method.
mod elf;
mod handles;
mod library;
mod registry;
mod search_path;

pub use handles::{CallError, DatasetHandle, StrategyHandle, TransformHandle};
pub use library::{sha256_hex, sha256_hex_of_digest, Library, LoadError};
pub use registry::{Registry, RegistryError};
pub use search_path::{SearchPath, PLUGIN_PATH_ENV};
