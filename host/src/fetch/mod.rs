//! `fuzzaug fetch`: download a public dataset (or copy it from a local mirror folder), verify it
//! against pinned SHA-256 values, unpack it, and say how to use it. When the network fails, the
//! error says which files to put where by hand so that the same command finishes the job.
pub mod catalog;
mod download;
mod unpack;

pub use download::{part_path, sha256_of, Outcome};

use anyhow::Context;
use catalog::{Entry, Remote, Unpack};
use download::Failure;
use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
};

/// What to fetch and from where.
pub struct Request<'a> {
    /// Dataset name (see [`catalog::CATALOG`]).
    pub dataset: &'a str,
    /// Destination folder (created).
    pub dir: &'a Path,
    /// Base URL replacing the official one: `http://`, `https://`, `file:///DIR/`, or a
    /// plain folder path.
    pub mirror: Option<&'a str>,
    /// SHA-256 overrides by file name (for mirrors that repackage).
    pub sha256: BTreeMap<String, String>,
    /// No progress bars.
    pub quiet: bool,
}

/// Where the files come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// An HTTP(S) base URL ending with `/`.
    Http(String),
    /// A folder on this machine holding the files under their official names.
    Folder(PathBuf),
}

/// Reads `--mirror`: `file:///DIR/` (or `file://localhost/DIR/`, `file:/DIR/`; `%XX` escapes
/// decoded) and a value without a scheme are a local folder; `http://` and `https://` a base
/// URL; anything else is refused. Without a mirror, `official`.
pub fn source(mirror: Option<&str>, official: &str) -> Result<Source, String> {
    let Some(m) = mirror else {
        return Ok(Source::Http(official.to_string()));
    };
    if m.is_empty() {
        return Err(
            "`--mirror` is empty; give an http(s):// base URL, file:///DIR/ or a folder path"
                .into(),
        );
    }
    let lower = m.to_ascii_lowercase();
    if lower.starts_with("file:") {
        let rest = &m["file:".len()..];
        let path = if let Some(after) = rest.strip_prefix("//") {
            let (host, path) = match after.find('/') {
                Some(i) => after.split_at(i),
                None => (after, ""),
            };
            if !(host.is_empty() || host.eq_ignore_ascii_case("localhost")) || path.is_empty() {
                return Err(format!(
                    "`--mirror {m}`: a file URL names a folder on this machine, with three slashes \
                     as in file:///srv/datasets/ (here `{host}` is read as a host name)"
                ));
            }
            path
        } else if rest.starts_with('/') {
            rest
        } else {
            return Err(format!(
                "`--mirror {m}`: a file URL needs an absolute path, as in file:///srv/datasets/"
            ));
        };
        let decoded = percent_decode(path).map_err(|why| format!("`--mirror {m}`: {why}"))?;
        return Ok(Source::Folder(PathBuf::from(decoded)));
    }
    if let Some((scheme, _)) = m.split_once("://") {
        return match scheme.to_ascii_lowercase().as_str() {
            "http" | "https" => Ok(Source::Http(if m.ends_with('/') {
                m.to_string()
            } else {
                format!("{m}/")
            })),
            _ => Err(format!(
                "`--mirror {m}`: fuzzaug fetch reads http://, https:// and file:///DIR/ mirrors \
                 or a folder path, not `{scheme}://`"
            )),
        };
    }
    Ok(Source::Folder(PathBuf::from(m)))
}

/// Decodes `%XX` escapes of a file URL's path.
fn percent_decode(s: &str) -> Result<String, String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| format!("`{}` is not a %XX escape", &s[i..(i + 3).min(s.len())]))?;
            out.push(hex);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| "the decoded path is not UTF-8".to_string())
}

/// `s` as one shell word.
fn shell_word(s: &str) -> String {
    if !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"/._-+=:,@%".contains(&b))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

/// One file of the dataset with the hash it must have.
struct Needed<'a> {
    remote: &'a Remote,
    sha256: String,
    /// Whether `--sha256` replaced the pinned hash (the published size then says nothing).
    overridden: bool,
}

impl Needed<'_> {
    fn size(&self) -> Option<u64> {
        (!self.overridden).then_some(self.remote.size)
    }
}

/// The command that finishes the job once the files are in place.
fn rerun_command(entry: &Entry, dir: &Path, overrides: &BTreeMap<String, String>) -> String {
    let mut cmd = format!(
        "fuzzaug fetch {} --dir {}",
        entry.name,
        shell_word(&dir.to_string_lossy())
    );
    for (file, hex) in overrides {
        cmd.push_str(&format!(
            " --sha256 {}",
            shell_word(&format!("{file}={hex}"))
        ));
    }
    cmd
}

/// The paragraph that follows a network failure: every file still missing (name, size when
/// known, SHA-256, the URL tried and the official one), the folder to put them in, and the
/// command that then verifies and unpacks them.
fn by_hand(
    entry: &Entry,
    missing: &[&Needed<'_>],
    base: &str,
    folder: &Path,
    rerun: &str,
) -> String {
    let one = missing.len() == 1;
    let (it, them) = if one {
        ("it", "file")
    } else {
        ("them", "files")
    };
    let unpacks = match entry.unpack {
        Unpack::TarGz(sub) => format!(" and unpacks {it} into {}", folder.join(sub).display()),
        Unpack::Keep => String::new(),
    };
    let list: Vec<String> = missing
        .iter()
        .map(|n| {
            let size = match n.size() {
                Some(size) => format!("{size} bytes"),
                None => "size unknown since --sha256 replaced its hash".to_string(),
            };
            let tried = format!("{base}{}", n.remote.file);
            let official = format!("{}{}", entry.base_url, n.remote.file);
            let official = if tried == official {
                String::new()
            } else {
                format!(", official {official}")
            };
            format!(
                "{} ({size}, SHA-256 {}, tried {tried}{official})",
                n.remote.file, n.sha256
            )
        })
        .collect();
    format!(
        "{} could not be downloaded. To install {} {} by hand, put {it} in {} under the name{} \
         given, then run `{rerun}` again, which checks the SHA-256{unpacks}: {}. A folder holding \
         the {them} also works offline as --mirror file:///DIR/ or --mirror /DIR",
        entry.name,
        if one { "the missing" } else { "the" },
        if one {
            "file".to_string()
        } else {
            format!("{} missing files", missing.len())
        },
        folder.display(),
        if one { "" } else { "s" },
        list.join("; ")
    )
}

/// Fetches and unpacks; returns the `path` to put in the config.
pub fn fetch(req: &Request<'_>) -> anyhow::Result<PathBuf> {
    let entry = catalog::find(req.dataset).map_err(anyhow::Error::msg)?;
    if let Some(unknown) = req
        .sha256
        .keys()
        .find(|k| !entry.files.iter().any(|f| f.file == k.as_str()))
    {
        let names: Vec<&str> = entry.files.iter().map(|f| f.file).collect();
        anyhow::bail!(
            "--sha256 names `{unknown}`, which is not a file of {}: {}",
            entry.name,
            names.join(", ")
        );
    }
    let source = source(req.mirror, entry.base_url).map_err(anyhow::Error::msg)?;
    if let Source::Folder(folder) = &source {
        if !folder.is_dir() {
            anyhow::bail!(
                "{}: no such folder (given as --mirror {}); a mirror folder holds the files of \
                 {} under their official names",
                folder.display(),
                req.mirror.unwrap_or_default(),
                entry.name
            );
        }
    }
    std::fs::create_dir_all(req.dir).with_context(|| format!("creating {}", req.dir.display()))?;
    let needed: Vec<Needed<'_>> = entry
        .files
        .iter()
        .map(|f| {
            let pinned = req.sha256.get(f.file);
            Needed {
                remote: f,
                sha256: pinned
                    .map(String::as_str)
                    .unwrap_or(f.sha256)
                    .to_ascii_lowercase(),
                overridden: pinned.is_some(),
            }
        })
        .collect();
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_connect(Some(std::time::Duration::from_secs(30)))
        .http_status_as_error(false)
        .build()
        .into();
    let verified_in_place = |n: &Needed<'_>| {
        let d = req.dir.join(n.remote.file);
        d.is_file() && sha256_of(&d).is_ok_and(|h| h == n.sha256)
    };
    for (i, n) in needed.iter().enumerate() {
        let f = n.remote;
        let dest = req.dir.join(f.file);
        let outcome = if download::already_there(&dest, &n.sha256, n.size())? {
            Outcome::AlreadyThere
        } else {
            match &source {
                Source::Http(base) => {
                    let url = format!("{base}{}", f.file);
                    match download::fetch(&agent, &url, &dest, &n.sha256, f.size, req.quiet) {
                        Ok(outcome) => outcome,
                        Err(Failure::Other(e)) => return Err(e),
                        Err(Failure::Network(e)) => {
                            // This file and every later one not already verified in place.
                            let missing: Vec<&Needed<'_>> = std::iter::once(n)
                                .chain(needed[i + 1..].iter().filter(|l| !verified_in_place(l)))
                                .collect();
                            let folder = req
                                .dir
                                .canonicalize()
                                .unwrap_or_else(|_| req.dir.to_path_buf());
                            let rerun = rerun_command(entry, req.dir, &req.sha256);
                            anyhow::bail!(
                                "{e:#}. {}",
                                by_hand(entry, &missing, base, &folder, &rerun)
                            );
                        }
                    }
                }
                Source::Folder(folder) => {
                    let src = folder.join(f.file);
                    if !src.is_file() {
                        // This file and every later one the mirror lacks and that is not
                        // already verified in place.
                        let absent: Vec<String> = std::iter::once(n)
                            .chain(needed[i + 1..].iter().filter(|l| !verified_in_place(l)))
                            .map(|l| folder.join(l.remote.file))
                            .filter(|p| !p.is_file())
                            .map(|p| p.display().to_string())
                            .collect();
                        let one = absent.len() == 1;
                        anyhow::bail!(
                            "{}: no such {} in the mirror folder {} (--mirror {}); {} needs {} \
                             there under {} official name{}",
                            absent.join(", "),
                            if one { "file" } else { "files" },
                            folder.display(),
                            req.mirror.unwrap_or_default(),
                            entry.name,
                            if one { "it" } else { "them" },
                            if one { "its" } else { "their" },
                            if one { "" } else { "s" },
                        );
                    }
                    download::copy(&src, &dest, &n.sha256, req.quiet)?
                }
            }
        };
        match outcome {
            Outcome::AlreadyThere => {
                log::info!("{}: already there and verified", dest.display())
            }
            Outcome::Downloaded { resumed_from: 0 } => {
                log::info!("{}: downloaded and verified", dest.display())
            }
            Outcome::Downloaded { resumed_from } => {
                log::info!(
                    "{}: resumed at byte {resumed_from}, downloaded and verified",
                    dest.display()
                )
            }
            Outcome::Copied => {
                log::info!("{}: copied from the mirror and verified", dest.display())
            }
        }
        if let Unpack::TarGz(folder) = entry.unpack {
            unpack::tar_gz(&dest, req.dir, folder)?;
        }
    }
    Ok(match entry.unpack {
        Unpack::TarGz(folder) => req.dir.join(folder),
        Unpack::Keep => req.dir.to_path_buf(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mirrors_are_read_as_urls_or_folders() {
        let off = "https://example.org/d/";
        assert_eq!(source(None, off), Ok(Source::Http(off.into())));
        assert_eq!(
            source(Some("http://127.0.0.1:9"), off),
            Ok(Source::Http("http://127.0.0.1:9/".into()))
        );
        assert_eq!(
            source(Some("HTTPS://m.example/x/"), off),
            Ok(Source::Http("HTTPS://m.example/x/".into()))
        );
        for (m, path) in [
            ("file:///srv/data/", "/srv/data/"),
            ("file:///srv/data", "/srv/data"),
            ("FILE://localhost/srv/my%20data/", "/srv/my data/"),
            ("file:/srv/data", "/srv/data"),
            ("/srv/data", "/srv/data"),
            ("rel/data", "rel/data"),
        ] {
            assert_eq!(source(Some(m), off), Ok(Source::Folder(path.into())), "{m}");
        }
        assert_eq!(
            source(Some("file://srv/data/"), off).unwrap_err(),
            "`--mirror file://srv/data/`: a file URL names a folder on this machine, with three \
             slashes as in file:///srv/datasets/ (here `srv` is read as a host name)"
        );
        assert_eq!(
            source(Some("file:data"), off).unwrap_err(),
            "`--mirror file:data`: a file URL needs an absolute path, as in file:///srv/datasets/"
        );
        assert_eq!(
            source(Some("file:///a%2"), off).unwrap_err(),
            "`--mirror file:///a%2`: `%2` is not a %XX escape"
        );
        assert_eq!(
            source(Some("ftp://m.example/"), off).unwrap_err(),
            "`--mirror ftp://m.example/`: fuzzaug fetch reads http://, https:// and file:///DIR/ \
             mirrors or a folder path, not `ftp://`"
        );
        assert!(source(Some(""), off)
            .unwrap_err()
            .contains("`--mirror` is empty"));
    }

    #[test]
    fn shell_words_are_quoted_only_when_needed() {
        assert_eq!(shell_word("data/cifar-10"), "data/cifar-10");
        assert_eq!(shell_word("my data"), "'my data'");
        assert_eq!(shell_word("it's"), r"'it'\''s'");
        assert_eq!(shell_word(""), "''");
    }

    #[test]
    fn the_by_hand_paragraph_lists_every_missing_file() {
        let entry = catalog::find("mnist").unwrap();
        let needed: Vec<Needed<'_>> = entry
            .files
            .iter()
            .enumerate()
            .map(|(i, f)| Needed {
                remote: f,
                sha256: if i == 3 {
                    "ab".repeat(32)
                } else {
                    f.sha256.into()
                },
                overridden: i == 3,
            })
            .collect();
        let missing: Vec<&Needed<'_>> = needed[2..].iter().collect();
        let overrides =
            BTreeMap::from([("t10k-labels-idx1-ubyte.gz".to_string(), "ab".repeat(32))]);
        let rerun = rerun_command(entry, Path::new("my data"), &overrides);
        assert_eq!(
            rerun,
            format!(
                "fuzzaug fetch mnist --dir 'my data' --sha256 t10k-labels-idx1-ubyte.gz={}",
                "ab".repeat(32)
            )
        );
        let text = by_hand(
            entry,
            &missing,
            "http://m/",
            Path::new("/abs/my data"),
            &rerun,
        );
        assert_eq!(
            text,
            format!(
                "mnist could not be downloaded. To install the 2 missing files by hand, put them \
                 in /abs/my data under the names given, then run `{rerun}` again, which checks \
                 the SHA-256: t10k-images-idx3-ubyte.gz (1648877 bytes, SHA-256 \
                 8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6, tried \
                 http://m/t10k-images-idx3-ubyte.gz, official \
                 https://storage.googleapis.com/cvdf-datasets/mnist/t10k-images-idx3-ubyte.gz); \
                 t10k-labels-idx1-ubyte.gz (size unknown since --sha256 replaced its hash, \
                 SHA-256 {}, tried http://m/t10k-labels-idx1-ubyte.gz, official \
                 https://storage.googleapis.com/cvdf-datasets/mnist/t10k-labels-idx1-ubyte.gz). \
                 A folder holding the files also works offline as --mirror file:///DIR/ or \
                 --mirror /DIR",
                "ab".repeat(32)
            )
        );
        let cifar = catalog::find("cifar10").unwrap();
        let one = Needed {
            remote: &cifar.files[0],
            sha256: cifar.files[0].sha256.into(),
            overridden: false,
        };
        let text = by_hand(
            cifar,
            &[&one],
            cifar.base_url,
            Path::new("/d"),
            "fuzzaug fetch cifar10 --dir /d",
        );
        assert_eq!(
            text,
            "cifar10 could not be downloaded. To install the missing file by hand, put it in /d \
             under the name given, then run `fuzzaug fetch cifar10 --dir /d` again, which checks \
             the SHA-256 and unpacks it into /d/cifar-10-batches-bin: cifar-10-binary.tar.gz \
             (170052171 bytes, SHA-256 \
             c4a38c50a1bc5f3a1c5537f2155ab9d68f9f25eb1ed8d9ddda3db29a59bca1dd, tried \
             https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz). A folder holding the file \
             also works offline as --mirror file:///DIR/ or --mirror /DIR"
        );
    }
}
