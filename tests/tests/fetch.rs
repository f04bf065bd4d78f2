//! `fuzzaug fetch` against a loopback HTTP server serving a small CIFAR-10 archive that the
//! test builds in the official layout: success, resume after a dropped connection, a bad
//! checksum, and the errors.
use fuzzaug_tests::{fuzzaug, http::Server, Scratch};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

const ARCHIVE: &str = "cifar-10-binary.tar.gz";

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
    let cfg = s.dir.write(
        "c.toml",
        &format!(
            "name = \"c\"\n[dataset]\nname = \"cifar10\"\npath = \"{}\"\n",
            folder.display()
        ),
    );
    let checked = fuzzaug(&["check", cfg.to_str().unwrap()]);
    assert!(
        checked
            .ok()
            .contains("10 classes, 3×32×32, train 10 / test 3"),
        "{}",
        checked.stdout
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
            "GET {}/train-images-idx3-ubyte.gz: HTTP 404 Not Found",
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
