//! Every entry point runs under `catch_unwind`: a panic in plugin code becomes a
//! [`PluginError`] naming the component, the method and the panic message, because a panic that
//! reached abi_stable's boundary would abort the whole host process.
use crate::error::PluginError;
use abi_stable::std_types::RResult;
use std::{
    cell::RefCell,
    panic::{self, AssertUnwindSafe},
    sync::Once,
};

thread_local! {
    static LAST_PANIC: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// This library's own std has its own panic hook: replace the printing default with one that
/// keeps the message and location for the error value (and the host's debug log).
fn install_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        panic::set_hook(Box::new(|info| {
            let msg = payload_message(info.payload());
            let text = match info.location() {
                Some(l) => format!("{msg} (at {}:{})", l.file(), l.line()),
                None => msg,
            };
            log::debug!("plugin panic: {text}");
            LAST_PANIC.with(|p| *p.borrow_mut() = Some(text));
        }));
    });
}

fn payload_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "non-string panic payload".to_string()
    }
}

/// Runs `f`, turning a panic into `PluginError { panicked: true, .. }`.
pub fn call<T>(
    component: &str,
    method: &str,
    f: impl FnOnce() -> Result<T, PluginError>,
) -> RResult<T, PluginError> {
    install_hook();
    match panic::catch_unwind(AssertUnwindSafe(f)) {
        Ok(r) => r.into(),
        Err(payload) => {
            let text = LAST_PANIC
                .with(|p| p.borrow_mut().take())
                .unwrap_or_else(|| payload_message(payload.as_ref()));
            RResult::RErr(PluginError::panic(format!(
                "`{component}` panicked in `{method}`: {text}"
            )))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ok_and_err_pass_through() {
        assert_eq!(call("c", "m", || Ok(3)).into_result(), Ok(3));
        let e = call::<()>("c", "m", || Err(PluginError::new("bad"))).into_result();
        assert_eq!(e, Err(PluginError::new("bad")));
    }

    #[test]
    fn panic_becomes_error_with_component_method_and_message() {
        let e = call::<()>("shapes", "read", || panic!("boom {}", 7))
            .into_result()
            .unwrap_err();
        assert!(e.panicked);
        assert!(
            e.message
                .starts_with("`shapes` panicked in `read`: boom 7 (at "),
            "{}",
            e.message
        );
    }
}
