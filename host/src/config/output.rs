//! Whether a run could write its run directory, found out without writing anything (for
//! `fuzzaug check`, which must leave the filesystem as it was).
use super::{Config, ConfigError, Source};
use std::{
    ffi::CString,
    io,
    os::unix::ffi::OsStrExt,
    path::{Path, PathBuf},
};

/// Checks that the run directory `output_dir/name` could be created and written: the nearest
/// of it, `output_dir` and their parents that exists is a folder this process may write into.
/// Creates nothing. Errors point at `output_dir`.
pub fn check_output_dir(config: &Config, source: &Source) -> Result<(), ConfigError> {
    let out = &config.output_dir;
    let run = out.join(&config.name);
    let shown = |p: &Path| format!("{:?}", p.display().to_string());
    let what = |dir: &Path| {
        if dir == run {
            format!("the run directory {} (`output_dir`/`name`)", shown(&run))
        } else {
            format!("`output_dir` {}", shown(out))
        }
    };
    let fail = |m: String| Err(source.error_at("output_dir", m));
    for dir in run.ancestors() {
        // The last ancestor of a relative path is the empty path: the working directory.
        let dir: PathBuf = if dir.as_os_str().is_empty() {
            ".".into()
        } else {
            dir.to_path_buf()
        };
        let below = |problem: String| {
            if dir == run || dir == *out {
                format!("{} {problem}", what(&dir))
            } else {
                format!("{} cannot be created: {} {problem}", what(out), shown(&dir))
            }
        };
        match std::fs::metadata(&dir) {
            Ok(m) if m.is_dir() => {
                return match writable(&dir) {
                    Ok(()) => Ok(()),
                    Err(e) => fail(below(format!("is not writable: {e}"))),
                };
            }
            Ok(_) => return fail(below("is a file, not a folder".into())),
            // Not there yet (or under a file, found further up): a run would create it.
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::NotFound | io::ErrorKind::NotADirectory
                ) => {}
            Err(e) => {
                return fail(format!(
                    "{}: cannot inspect {}: {e}",
                    what(out),
                    shown(&dir)
                ))
            }
        }
    }
    Ok(())
}

/// Whether this process may create entries in folder `dir` (access(2): the permission bits,
/// ACLs and read-only mounts, as the kernel would judge a write; root passes the bits).
fn writable(dir: &Path) -> io::Result<()> {
    let c = CString::new(dir.as_os_str().as_bytes())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "the path holds a NUL byte"))?;
    // SAFETY: `c` is a NUL-terminated string that outlives the call.
    if unsafe { libc::access(c.as_ptr(), libc::W_OK | libc::X_OK) } == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(dir: &Path, output_dir: &str) -> Result<(), ConfigError> {
        let text = format!(
            "name = \"x\"\noutput_dir = {}\n",
            crate::config::toml_string(&dir.join(output_dir).display().to_string())
        );
        let config: Config = toml::from_str(&text).unwrap();
        check_output_dir(&config, &Source::new("c.toml", text))
    }

    #[test]
    fn a_folder_that_exists_or_can_be_created_passes_and_nothing_is_written() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::create_dir(tmp.path().join("runs")).unwrap();
        check(tmp.path(), "runs").unwrap();
        check(tmp.path(), "new/deeper").unwrap();
        assert!(!tmp.path().join("new").exists());
        assert!(!tmp.path().join("runs/x").exists());
    }

    #[test]
    fn files_in_the_way_are_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let p = |s: &str| format!("{:?}", tmp.path().join(s).display().to_string());
        std::fs::write(tmp.path().join("f"), "").unwrap();
        let e = check(tmp.path(), "f").unwrap_err();
        assert_eq!(
            e.to_string(),
            format!(
                "c.toml:2:14: `output_dir` {} is a file, not a folder",
                p("f")
            )
        );
        let e = check(tmp.path(), "f/runs").unwrap_err();
        assert_eq!(
            e.message,
            format!(
                "`output_dir` {} cannot be created: {} is a file, not a folder",
                p("f/runs"),
                p("f")
            )
        );
        std::fs::create_dir(tmp.path().join("runs")).unwrap();
        std::fs::write(tmp.path().join("runs/x"), "").unwrap();
        let e = check(tmp.path(), "runs").unwrap_err();
        assert_eq!(
            e.message,
            format!(
                "the run directory {} (`output_dir`/`name`) is a file, not a folder",
                p("runs/x")
            )
        );
    }

    #[test]
    fn a_path_that_cannot_be_looked_at_is_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let long = "a".repeat(300);
        let e = check(tmp.path(), &long).unwrap_err();
        let shown = format!("{:?}", tmp.path().join(&long).display().to_string());
        let run = format!(
            "{:?}",
            tmp.path().join(&long).join("x").display().to_string()
        );
        assert_eq!(
            e.message,
            format!("`output_dir` {shown}: cannot inspect {run}: File name too long (os error 36)")
        );
    }
}
