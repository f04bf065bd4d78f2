//! `fuzzaug fetch` against a loopback HTTP server serving a small CIFAR-10 archive that the
//! test builds in the official layout: success, resume after a dropped connection, a bad
//! checksum, and the errors.
use fuzzaug_tests::{fuzzaug, http::Server, Scratch};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

const ARCHIVE: &str = "cifar-10-binary.tar.gz";

/// `fuzzaug check` of a config in `dir` reading `dataset` from `path` prints `expect`.
fn checks_as(dir: &Scratch, dataset: &str, path: &std::path::Path, expect: &str) {
    let cfg = dir.write(
        "checked.toml",
        &format!(
            "name = \"c\"\n[dataset]\nname = \"{dataset}\"\npath = \"{}\"\n",
            path.display()
        ),
    );
    let checked = fuzzaug(&["check", cfg.to_str().unwrap()]);
    assert!(checked.ok().contains(expect), "{}", checked.stdout);
}

/// A real-format CIFAR-10 `.tar.gz`: 5 train batches of 2 records and a test batch of 3.
fn cifar_archive() -> Vec<u8> {
    let mut tar = tar::Builder::new(flate2::write::GzEncoder::new(
        Vec::new(),
        flate2::Compression::default(),
    ));
    let mut add = |name: &str, data: &[u8]| {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        tar.append_data(&mut h, format!("cifar-10-batches-bin/{name}"), data)
            .unwrap();
    };
    let batch = |records: usize, seed: u8| -> Vec<u8> {
        (0..records)
            .flat_map(|r| {
                let mut rec = vec![(r as u8 + seed) % 10];
                rec.extend((0..3072u32).map(|i| (i as u8).wrapping_add(seed).wrapping_mul(7)));
                rec
            })
            .collect()
    };
    for b in 1..=5u8 {
        add(&format!("data_batch_{b}.bin"), &batch(2, b));
    }
    add("test_batch.bin", &batch(3, 9));
    add(
        "batches.meta.txt",
        b"airplane\nautomobile\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck\n\n",
    );
    tar.into_inner().unwrap().finish().unwrap()
}

fn hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

struct Setup {
    server: Server,
    dir: Scratch,
    sha: String,
    len: usize,
}

fn setup() -> Setup {
    let archive = cifar_archive();
    let (sha, len) = (hex(&archive), archive.len());
    let server = Server::start(BTreeMap::from([(ARCHIVE.to_string(), archive)]));
    Setup {
        server,
        dir: Scratch::new(),
        sha,
        len,
    }
}

fn fetch(s: &Setup, sha: &str) -> fuzzaug_tests::Run {
    let dir = s.dir.path().join("data");
    let pin = format!("{ARCHIVE}={sha}");
    fuzzaug(&[
        "fetch",
        "cifar10",
        "--dir",
        dir.to_str().unwrap(),
        "--mirror",
        &s.server.base,
        "--sha256",
        &pin,
        "--quiet",
    ])
}

#[test]
fn fetches_verifies_unpacks_and_prints_a_config_that_checks() {
    let s = setup();
    let out = fetch(&s, &s.sha);
    let text = out.ok();
    let data = s.dir.path().join("data");
    let folder = data.join("cifar-10-batches-bin");
    assert!(
        text.contains(&format!(
            "[dataset]\nname = \"cifar10\"\npath = \"{}\"",
            folder.display()
        )),
        "{text}"
    );
    assert!(data.join(ARCHIVE).is_file());
    assert!(!data.join(format!("{ARCHIVE}.part")).exists());
    checks_as(
        &s.dir,
        "cifar10",
        &folder,
        "10 classes, 3×32×32, train 10 / test 3",
    );
    // A second run finds the verified file and downloads nothing.
    let before = s.server.seen.lock().unwrap().len();
    fetch(&s, &s.sha).ok();
    assert_eq!(s.server.seen.lock().unwrap().len(), before);
}

#[test]
fn a_dropped_download_resumes_where_it_stopped() {
    let s = setup();
    let half = s.len / 2;
    *s.server.cut_next_at.lock().unwrap() = Some(half);
    let err = fetch(&s, &s.sha).fails().to_string();
    assert!(
        err.contains("interrupted after") && err.contains("run the same command again to resume"),
        "{err}"
    );
    assert!(
        err.contains(&format!(
            "cifar10 could not be downloaded. To install the missing file by hand, put it in {}",
            s.dir.path().join("data").canonicalize().unwrap().display()
        )),
        "{err}"
    );
    let part = s.dir.path().join("data").join(format!("{ARCHIVE}.part"));
    assert_eq!(std::fs::metadata(&part).unwrap().len(), half as u64);
    fetch(&s, &s.sha).ok();
    let seen = s.server.seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[0].range, None);
    assert_eq!(
        seen[1].range.as_deref(),
        Some(format!("bytes={half}-").as_str())
    );
    assert!(!part.exists());
}

#[test]
fn a_bad_checksum_deletes_the_download_and_says_so() {
    let s = setup();
    let wrong = "0".repeat(64);
    let err = fetch(&s, &wrong).fails().to_string();
    let url = format!("{}/{ARCHIVE}", s.server.base);
    assert!(
        err.contains(&format!("{url}: SHA-256 mismatch: expected {wrong}, got {} ({} bytes). The download was deleted", s.sha, s.len)),
        "{err}"
    );
    let data = s.dir.path().join("data");
    assert!(!data.join(ARCHIVE).exists() && !data.join(format!("{ARCHIVE}.part")).exists());
}

#[test]
fn fetch_errors_are_clear() {
    let s = setup();
    let dir = s.dir.path().join("d");
    let d = dir.to_str().unwrap();
    let err = fuzzaug(&["fetch", "cifar-10", "--dir", d])
        .fails()
        .to_string();
    assert!(
        err.contains("fuzzaug fetch knows no dataset `cifar-10`; did you mean `cifar10`?"),
        "{err}"
    );
    let err = fuzzaug(&[
        "fetch",
        "mnist",
        "--dir",
        d,
        "--mirror",
        &s.server.base,
        "--quiet",
    ])
    .fails()
    .to_string();
    assert!(
        err.contains(&format!(
            "GET {}/train-images-idx3-ubyte.gz: HTTP 404 Not Found. mnist could not be downloaded. \
             To install the 4 missing files by hand",
            s.server.base
        )),
        "{err}"
    );
    let official = "https://storage.googleapis.com/cvdf-datasets/mnist/t10k-labels-idx1-ubyte.gz";
    assert!(
        err.contains(&format!(
            "t10k-labels-idx1-ubyte.gz (4542 bytes, SHA-256 \
             f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6, tried \
             {}/t10k-labels-idx1-ubyte.gz, official {official})",
            s.server.base
        )),
        "{err}"
    );
    let err = fuzzaug(&["fetch", "cifar10", "--dir", d, "--sha256", "x"])
        .fails()
        .to_string();
    assert!(err.contains("`--sha256 x`: expected FILE=HEX"), "{err}");
    let err = fuzzaug(&[
        "fetch",
        "cifar10",
        "--dir",
        d,
        "--sha256",
        "other.tar.gz=".to_string().as_str(),
    ])
    .fails()
    .to_string();
    assert!(err.contains("the hash must be 64 hex digits"), "{err}");
    let pin = format!("other.tar.gz={}", "a".repeat(64));
    let err = fuzzaug(&["fetch", "cifar10", "--dir", d, "--sha256", &pin])
        .fails()
        .to_string();
    assert!(
        err.contains(
            "--sha256 names `other.tar.gz`, which is not a file of cifar10: cifar-10-binary.tar.gz"
        ),
        "{err}"
    );
}

// ---- offline: the by-hand instructions, local mirrors, hand-placed files ----

/// A mirror nothing listens on (port 9, discard): every connection is refused.
const OFFLINE: &str = "http://127.0.0.1:9/";

const MNIST_FILES: [&str; 4] = [
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
];

/// A gzip IDX file: magic, dimensions, data.
fn idx_gz(magic: u32, dims: &[u32], data: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut raw = magic.to_be_bytes().to_vec();
    for d in dims {
        raw.extend_from_slice(&d.to_be_bytes());
    }
    raw.extend_from_slice(data);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&raw).unwrap();
    gz.finish().unwrap()
}

/// Real-format MNIST files, in `MNIST_FILES` order: 3 training images and 2 test images.
fn tiny_mnist() -> Vec<Vec<u8>> {
    let img = |n: u32, seed: u8| -> Vec<u8> {
        (0..n * 784)
            .map(|i| seed.wrapping_mul(31).wrapping_add(i as u8))
            .collect()
    };
    vec![
        idx_gz(0x803, &[3, 28, 28], &img(3, 1)),
        idx_gz(0x801, &[3], &[9, 0, 4]),
        idx_gz(0x803, &[2, 28, 28], &img(2, 2)),
        idx_gz(0x801, &[2], &[1, 7]),
    ]
}

fn pins(files: &[&str], contents: &[Vec<u8>]) -> Vec<String> {
    files
        .iter()
        .zip(contents)
        .flat_map(|(f, c)| ["--sha256".to_string(), format!("{f}={}", hex(c))])
        .collect()
}

fn run_fetch(dataset: &str, dir: &std::path::Path, extra: &[String]) -> fuzzaug_tests::Run {
    let mut args = vec![
        "fetch".to_string(),
        dataset.to_string(),
        "--dir".to_string(),
        dir.to_str().unwrap().to_string(),
    ];
    args.extend(extra.iter().cloned());
    args.push("--quiet".to_string());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    fuzzaug(&args)
}

fn mirror(m: &str) -> Vec<String> {
    vec!["--mirror".to_string(), m.to_string()]
}

/// Asserts that an error is one paragraph: a single line after `error: `.
fn one_paragraph(err: &str) {
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
}

/// The entry the binary uses, for the pinned names, sizes and hashes.
fn remote(dataset: &str, file: &str) -> fuzzaug::fetch::catalog::Remote {
    *fuzzaug::fetch::catalog::find(dataset)
        .unwrap()
        .files
        .iter()
        .find(|f| f.file == file)
        .unwrap()
}

#[test]
fn an_unreachable_server_says_which_file_to_put_where() {
    let s = Scratch::new();
    let data = s.path().join("data");
    let err = run_fetch("mnist", &data, &mirror(OFFLINE))
        .fails()
        .to_string();
    one_paragraph(&err);
    let folder = data.canonicalize().unwrap();
    let official = fuzzaug::fetch::catalog::find("mnist").unwrap().base_url;
    assert!(
        err.starts_with(&format!("error: GET {OFFLINE}train-images-idx3-ubyte.gz: ")),
        "{err}"
    );
    assert!(
        err.contains(&format!(
            "mnist could not be downloaded. To install the 4 missing files by hand, put them in {} \
             under the names given, then run `fuzzaug fetch mnist --dir {}` again, which checks \
             the SHA-256: ",
            folder.display(),
            data.display()
        )),
        "{err}"
    );
    for file in MNIST_FILES {
        let r = remote("mnist", file);
        assert!(
            err.contains(&format!(
                "{file} ({} bytes, SHA-256 {}, tried {OFFLINE}{file}, official {official}{file})",
                r.size, r.sha256
            )),
            "{file}: {err}"
        );
    }
    assert!(
        err.trim_end()
            .ends_with("A folder holding the files also works offline as --mirror file:///DIR/ or --mirror /DIR"),
        "{err}"
    );
    // Nothing was left behind but the (empty) folder.
    assert_eq!(std::fs::read_dir(&data).unwrap().count(), 0);

    // The sizes are the published ones.
    let r = remote("cifar10", ARCHIVE);
    assert_eq!(r.size, 170_052_171);
    let err = run_fetch("cifar10", &data, &mirror(OFFLINE))
        .fails()
        .to_string();
    one_paragraph(&err);
    assert!(
        err.contains(&format!(
            "To install the missing file by hand, put it in {} under the name given, then run \
             `fuzzaug fetch cifar10 --dir {}` again, which checks the SHA-256 and unpacks it into \
             {}: {ARCHIVE} (170052171 bytes, SHA-256 {}, tried {OFFLINE}{ARCHIVE}, official \
             https://www.cs.toronto.edu/~kriz/{ARCHIVE}). A folder holding the file also works",
            folder.display(),
            data.display(),
            folder.join("cifar-10-batches-bin").display(),
            r.sha256
        )),
        "{err}"
    );
}

#[test]
fn only_the_files_still_missing_are_listed_with_the_pins_to_rerun_with() {
    let s = Scratch::new();
    let data = s.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let files = tiny_mnist();
    // The first and third files are already in place (verified by their pins).
    std::fs::write(data.join(MNIST_FILES[0]), &files[0]).unwrap();
    std::fs::write(data.join(MNIST_FILES[2]), &files[2]).unwrap();
    let mut args = mirror(OFFLINE);
    args.extend(pins(&MNIST_FILES, &files));
    let err = run_fetch("mnist", &data, &args).fails().to_string();
    one_paragraph(&err);
    assert!(
        err.starts_with(&format!("error: GET {OFFLINE}{}: ", MNIST_FILES[1])),
        "{err}"
    );
    assert!(
        err.contains("To install the 2 missing files by hand"),
        "{err}"
    );
    for i in [1, 3] {
        assert!(
            err.contains(&format!(
                "{} (size unknown since --sha256 replaced its hash, SHA-256 {}, tried {OFFLINE}{}",
                MNIST_FILES[i],
                hex(&files[i]),
                MNIST_FILES[i]
            )),
            "{err}"
        );
    }
    for i in [0, 2] {
        assert!(!err.contains(&format!("{} (", MNIST_FILES[i])), "{err}");
    }
    // The command to rerun carries the pins, and works once the files are in place.
    let rerun = err.split('`').nth(1).unwrap();
    assert!(
        rerun.starts_with(&format!(
            "fuzzaug fetch mnist --dir {} --sha256 ",
            data.display()
        )),
        "{rerun}"
    );
    for i in [1, 3] {
        std::fs::write(data.join(MNIST_FILES[i]), &files[i]).unwrap();
    }
    let words: Vec<&str> = rerun.split_whitespace().skip(1).collect();
    let text = fuzzaug(&words).ok().to_string();
    assert!(
        text.contains(&format!(
            "[dataset]\nname = \"mnist\"\npath = \"{}\"",
            data.display()
        )),
        "{text}"
    );
}

#[test]
fn a_file_placed_by_hand_is_verified_and_unpacked_on_rerun() {
    let s = Scratch::new();
    let data = s.path().join("data");
    let archive = cifar_archive();
    let pin = vec![
        "--sha256".to_string(),
        format!("{ARCHIVE}={}", hex(&archive)),
    ];
    let offline = [mirror(OFFLINE), pin.clone()].concat();
    // An earlier download stopped half-way and left a .part.
    std::fs::create_dir_all(&data).unwrap();
    let part = data.join(format!("{ARCHIVE}.part"));
    std::fs::write(&part, &archive[..archive.len() / 2]).unwrap();
    let err = run_fetch("cifar10", &data, &offline).fails().to_string();
    one_paragraph(&err);
    let folder = data.canonicalize().unwrap();
    assert!(
        err.contains(&format!(
            "put it in {} under the name given, then run `fuzzaug fetch cifar10 --dir {} --sha256 {ARCHIVE}={}` again",
            folder.display(),
            data.display(),
            hex(&archive)
        )),
        "{err}"
    );
    assert!(
        err.contains(&format!(
            "{ARCHIVE} (size unknown since --sha256 replaced its hash, SHA-256 {}",
            hex(&archive)
        )),
        "{err}"
    );
    // Put the file where the message says; the same command (still offline) finishes the job.
    std::fs::write(folder.join(ARCHIVE), &archive).unwrap();
    let text = run_fetch("cifar10", &data, &offline).ok().to_string();
    let unpacked = data.join("cifar-10-batches-bin");
    assert!(
        text.contains(&format!("path = \"{}\"", unpacked.display())),
        "{text}"
    );
    assert!(unpacked.join("test_batch.bin").is_file());
    assert!(!part.exists(), "the stale .part is removed");
    checks_as(&s, "cifar10", &unpacked, "train 10 / test 3");
}

#[test]
fn a_wrong_file_placed_by_hand_is_refused_and_kept() {
    let s = Scratch::new();
    let data = s.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let dest = data.join(ARCHIVE);
    std::fs::write(&dest, b"not the archive").unwrap();
    let err = run_fetch("cifar10", &data, &mirror(OFFLINE))
        .fails()
        .to_string();
    one_paragraph(&err);
    let r = remote("cifar10", ARCHIVE);
    assert!(
        err.contains(&format!(
            "error: {}: SHA-256 mismatch: this file has 15 bytes and SHA-256 {}; the published \
             file has 170052171 bytes and SHA-256 {}. It was left as it is: replace it with the \
             published file, delete it to download it again, or pin its hash with --sha256 \
             {ARCHIVE}=HEX if it is a repackaged copy",
            dest.display(),
            hex(b"not the archive"),
            r.sha256
        )),
        "{err}"
    );
    assert_eq!(std::fs::read(&dest).unwrap(), b"not the archive");
}

#[test]
fn a_file_url_mirror_is_verified_and_unpacked_without_the_network() {
    let s = Scratch::new();
    let store = s.path().join("my mirror");
    std::fs::create_dir_all(&store).unwrap();
    let archive = cifar_archive();
    std::fs::write(store.join(ARCHIVE), &archive).unwrap();
    let url = format!("file://{}/", store.display()).replace(' ', "%20");
    let data = s.path().join("data");
    let args = [
        mirror(&url),
        vec![
            "--sha256".to_string(),
            format!("{ARCHIVE}={}", hex(&archive)),
        ],
    ]
    .concat();
    let text = run_fetch("cifar10", &data, &args).ok().to_string();
    let unpacked = data.join("cifar-10-batches-bin");
    assert!(
        text.contains(&format!(
            "[dataset]\nname = \"cifar10\"\npath = \"{}\"",
            unpacked.display()
        )),
        "{text}"
    );
    assert_eq!(std::fs::read(data.join(ARCHIVE)).unwrap(), archive);
    assert!(!data.join(format!("{ARCHIVE}.part")).exists());
    assert!(unpacked.join("data_batch_5.bin").is_file());
    // file://localhost/ and a second run (already there) work too.
    let local = format!("file://localhost{}/", store.display()).replace(' ', "%20");
    let args = [
        mirror(&local),
        vec![
            "--sha256".to_string(),
            format!("{ARCHIVE}={}", hex(&archive)),
        ],
    ]
    .concat();
    run_fetch("cifar10", &data, &args).ok();
}

#[test]
fn a_plain_folder_mirror_feeds_mnist_that_then_checks() {
    let s = Scratch::new();
    let store = s.path().join("mirror");
    std::fs::create_dir_all(&store).unwrap();
    let files = tiny_mnist();
    for (f, c) in MNIST_FILES.iter().zip(&files) {
        std::fs::write(store.join(f), c).unwrap();
    }
    // A relative folder, as typed in the working directory.
    let mut args: Vec<String> = [
        "fetch", "mnist", "--dir", "data", "--mirror", "mirror", "--quiet",
    ]
    .iter()
    .map(|a| a.to_string())
    .collect();
    args.extend(pins(&MNIST_FILES, &files));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let text = fuzzaug_tests::fuzzaug_in(&args, Some(s.path()))
        .ok()
        .to_string();
    assert!(
        text.contains("[dataset]\nname = \"mnist\"\npath = \"data\""),
        "{text}"
    );
    let data = s.path().join("data");
    for (f, c) in MNIST_FILES.iter().zip(&files) {
        assert_eq!(&std::fs::read(data.join(f)).unwrap(), c);
    }
    checks_as(&s, "mnist", &data, "train 3 / test 2");
}

#[test]
fn a_wrong_file_in_the_mirror_is_refused_naming_it() {
    let s = Scratch::new();
    let store = s.path().join("mirror");
    std::fs::create_dir_all(&store).unwrap();
    let archive = cifar_archive();
    std::fs::write(store.join(ARCHIVE), &archive).unwrap();
    let data = s.path().join("data");
    // The pinned (official) hash: the tiny archive is not the published file.
    let err = run_fetch("cifar10", &data, &mirror(store.to_str().unwrap()))
        .fails()
        .to_string();
    one_paragraph(&err);
    let r = remote("cifar10", ARCHIVE);
    assert!(
        err.contains(&format!(
            "error: {}: SHA-256 mismatch: expected {}, got {} ({} bytes). The mirror's {ARCHIVE} \
             is not the file fuzzaug pins, and nothing was copied to {}; replace it in the \
             mirror, or pin its hash with --sha256 {ARCHIVE}=HEX if the mirror repackages",
            store.join(ARCHIVE).display(),
            r.sha256,
            hex(&archive),
            archive.len(),
            data.display()
        )),
        "{err}"
    );
    assert!(!data.join(ARCHIVE).exists());
    assert!(!data.join(format!("{ARCHIVE}.part")).exists());
}

#[test]
fn local_mirror_errors_name_the_path() {
    let s = Scratch::new();
    let data = s.path().join("data");
    let store = s.path().join("mirror");
    std::fs::create_dir_all(&store).unwrap();
    // A mirror folder that lacks files: every absent one is named.
    let files = tiny_mnist();
    std::fs::write(store.join(MNIST_FILES[0]), &files[0]).unwrap();
    let url = format!("file://{}", store.display());
    let mut args = mirror(&url);
    args.extend(pins(&MNIST_FILES, &files));
    let err = run_fetch("mnist", &data, &args).fails().to_string();
    one_paragraph(&err);
    let absent: Vec<String> = MNIST_FILES[1..]
        .iter()
        .map(|f| store.join(f).display().to_string())
        .collect();
    assert!(
        err.contains(&format!(
            "error: {}: no such files in the mirror folder {} (--mirror {url}); mnist needs them \
             there under their official names",
            absent.join(", "),
            store.display()
        )),
        "{err}"
    );
    // The file that was there was copied and verified; one more missing file is named alone.
    assert_eq!(std::fs::read(data.join(MNIST_FILES[0])).unwrap(), files[0]);
    for i in [1, 2] {
        std::fs::write(store.join(MNIST_FILES[i]), &files[i]).unwrap();
    }
    let err = run_fetch("mnist", &data, &args).fails().to_string();
    assert!(
        err.contains(&format!(
            "error: {}: no such file in the mirror folder {} (--mirror {url}); mnist needs it \
             there under its official name",
            store.join(MNIST_FILES[3]).display(),
            store.display()
        )),
        "{err}"
    );
    // A mirror folder that does not exist.
    let gone = s.path().join("gone");
    let url = format!("file://{}/", gone.display());
    let err = run_fetch("cifar10", &data, &mirror(&url))
        .fails()
        .to_string();
    assert!(
        err.contains(&format!(
            "error: {}/: no such folder (given as --mirror {url}); a mirror folder holds the \
             files of cifar10 under their official names",
            gone.display()
        )),
        "{err}"
    );
    let err = run_fetch("cifar10", &data, &mirror(gone.to_str().unwrap()))
        .fails()
        .to_string();
    assert!(
        err.contains(&format!("error: {}: no such folder", gone.display())),
        "{err}"
    );
    // URLs fetch cannot read.
    let err = run_fetch("cifar10", &data, &mirror("file://server/share/"))
        .fails()
        .to_string();
    assert!(
        err.contains(
            "`--mirror file://server/share/`: a file URL names a folder on this machine, with \
             three slashes as in file:///srv/datasets/ (here `server` is read as a host name)"
        ),
        "{err}"
    );
    let err = run_fetch("cifar10", &data, &mirror("ftp://m.example/"))
        .fails()
        .to_string();
    assert!(
        err.contains("`--mirror ftp://m.example/`: fuzzaug fetch reads http://, https:// and file:///DIR/ mirrors or a folder path, not `ftp://`"),
        "{err}"
    );
}
