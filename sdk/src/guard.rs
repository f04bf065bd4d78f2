//! Every entry point runs under `catch_unwind`: a panic in plugin code becomes a
//! [`PluginError`] naming the component, the method and the panic message, because a panic that
//! reached abi_stable's boundary would abort the whole host process. The same holds for the
//! calls that return no error: dropping a component ([`drop_guarded`]), the log callback and
//! `fingerprint()` ([`catch`]).
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

/// Runs `f`; a panic becomes `Err` with its message and location. The last-panic record is
/// cleared first, so that the text is this panic's, never an earlier one's (a panic caught by
/// the plugin itself, or one on another path that recorded it without taking it).
pub fn catch<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    install_hook();
    LAST_PANIC.with(|p| p.borrow_mut().take());
    panic::catch_unwind(AssertUnwindSafe(f)).map_err(|payload| {
        LAST_PANIC
            .with(|p| p.borrow_mut().take())
            .unwrap_or_else(|| payload_message(payload.as_ref()))
    })
}

/// Runs `f`, turning a panic into `PluginError { panicked: true, .. }`.
pub fn call<T>(
    component: &str,
    method: &str,
    f: impl FnOnce() -> Result<T, PluginError>,
) -> RResult<T, PluginError> {
    match catch(f) {
        Ok(r) => r.into(),
        Err(text) => RResult::RErr(PluginError::panic(format!(
            "`{component}` panicked in `{method}`: {text}"
        ))),
    }
}

/// Drops `value`, a plugin's component, where the host's drop of the boundary object lands: a
/// panic in its `Drop` would abort the host there, so it is caught and logged (as an error,
/// through the host's logger) instead. The host goes on; the object is gone either way.
pub fn drop_guarded<T>(component: &str, value: T) {
    if let Err(text) = catch(move || drop(value)) {
        log::error!("`{component}` panicked while being dropped: {text}");
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
    fn a_stale_panic_record_is_not_reported_for_a_later_panic() {
        install_hook();
        // A panic the plugin caught itself leaves a record behind ...
        let _ = panic::catch_unwind(|| panic!("old news"));
        // ... and `resume_unwind` runs no hook, so only its payload tells this panic.
        let e = call::<()>("c", "m", || panic::resume_unwind(Box::new("new")))
            .into_result()
            .unwrap_err();
        assert_eq!(e.message, "`c` panicked in `m`: new");
    }

    #[test]
    fn a_panic_in_drop_is_contained() {
        struct Bomb;
        impl Drop for Bomb {
            fn drop(&mut self) {
                panic!("drop bomb");
            }
        }
        drop_guarded("c", Bomb);
        assert_eq!(catch(|| 5), Ok(5));
        let e = catch(|| drop(Bomb)).unwrap_err();
        assert!(e.starts_with("drop bomb (at "), "{e}");
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
