//! The public datasets `fuzzaug fetch` knows: where they live and their pinned SHA-256.
//! Hashes are those of the official archives (as also pinned by TensorFlow Datasets); sizes are
//! the published ones (the CIFAR sizes as the Toronto server and Zenodo serve them, the MNIST and
//! Fashion-MNIST sizes as every copy of those files has).

/// One file to download.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Remote {
    /// File name, appended to the base URL.
    pub file: &'static str,
    /// The published size in bytes: for the progress bar, and the message that says which
    /// file to place by hand when the download fails.
    pub size: u64,
    /// Expected SHA-256, hex.
    pub sha256: &'static str,
}

/// What to do with the files once verified.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unpack {
    /// Extract a `.tar.gz` archive; it unpacks into this folder.
    TarGz(&'static str),
    /// Keep the files as they are (the dataset plugin reads them, `.gz` included).
    Keep,
}

/// A dataset `fuzzaug fetch` can download.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry {
    /// The name on the command line and the dataset component's name.
    pub name: &'static str,
    /// Official base URL (ends with `/`).
    pub base_url: &'static str,
    /// The files.
    pub files: &'static [Remote],
    /// What to do after verifying.
    pub unpack: Unpack,
}

/// Every dataset `fuzzaug fetch` knows.
pub const CATALOG: &[Entry] = &[
    Entry {
        name: "cifar10",
        base_url: "https://www.cs.toronto.edu/~kriz/",
        files: &[Remote {
            file: "cifar-10-binary.tar.gz",
            size: 170_052_171,
            sha256: "c4a38c50a1bc5f3a1c5537f2155ab9d68f9f25eb1ed8d9ddda3db29a59bca1dd",
        }],
        unpack: Unpack::TarGz("cifar-10-batches-bin"),
    },
    Entry {
        name: "cifar100",
        base_url: "https://www.cs.toronto.edu/~kriz/",
        files: &[Remote {
            file: "cifar-100-binary.tar.gz",
            size: 168_513_733,
            sha256: "58a81ae192c23a4be8b1804d68e518ed807d710a4eb253b1f2a199162a40d8ec",
        }],
        unpack: Unpack::TarGz("cifar-100-binary"),
    },
    Entry {
        name: "cifar10c",
        // Zenodo record 2535967 (Hendrycks & Dietterich); Zenodo lists the MD5
        // 56bf5dcef84df0e2308c6dcbcbbd8499, the SHA-256 is TensorFlow Datasets' pin.
        base_url: "https://zenodo.org/record/2535967/files/",
        files: &[Remote {
            file: "CIFAR-10-C.tar",
            size: 2_918_471_680,
            sha256: "c72763e101c723b7c507b96205f7e938912a5d587376173b825850cf3cb876a7",
        }],
        // An uncompressed tar, which the `cifar10c` plugin reads in place.
        unpack: Unpack::Keep,
    },
    Entry {
        name: "mnist",
        base_url: "https://storage.googleapis.com/cvdf-datasets/mnist/",
        files: &[
            Remote {
                file: "train-images-idx3-ubyte.gz",
                size: 9_912_422,
                sha256: "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
            },
            Remote {
                file: "train-labels-idx1-ubyte.gz",
                size: 28_881,
                sha256: "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
            },
            Remote {
                file: "t10k-images-idx3-ubyte.gz",
                size: 1_648_877,
                sha256: "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
            },
            Remote {
                file: "t10k-labels-idx1-ubyte.gz",
                size: 4_542,
                sha256: "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
            },
        ],
        unpack: Unpack::Keep,
    },
    Entry {
        name: "fashion-mnist",
        base_url: "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
        files: &[
            Remote {
                file: "train-images-idx3-ubyte.gz",
                size: 26_421_880,
                sha256: "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
            },
            Remote {
                file: "train-labels-idx1-ubyte.gz",
                size: 29_515,
                sha256: "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
            },
            Remote {
                file: "t10k-images-idx3-ubyte.gz",
                size: 4_422_102,
                sha256: "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
            },
            Remote {
                file: "t10k-labels-idx1-ubyte.gz",
                size: 5_148,
                sha256: "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
            },
        ],
        unpack: Unpack::Keep,
    },
];

/// The entry called `name`, or the list of known names.
pub fn find(name: &str) -> Result<&'static Entry, String> {
    CATALOG.iter().find(|e| e.name == name).ok_or_else(|| {
        let names: Vec<&str> = CATALOG.iter().map(|e| e.name).collect();
        let hint = fuzzaug_sdk::settings::did_you_mean(name, &names)
            .map(|n| format!("did you mean `{n}`? "))
            .unwrap_or_default();
        format!(
            "fuzzaug fetch knows no dataset `{name}`; {hint}known: {}",
            names.join(", ")
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_hashes_well_formed() {
        for (i, e) in CATALOG.iter().enumerate() {
            assert!(CATALOG[..i].iter().all(|o| o.name != e.name));
            assert!(e.base_url.ends_with('/'));
            for f in e.files {
                assert_eq!(f.sha256.len(), 64);
                assert!(f
                    .sha256
                    .bytes()
                    .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
            }
        }
    }

    #[test]
    fn unknown_name_suggests() {
        assert_eq!(find("cifar-10").unwrap_err(), "fuzzaug fetch knows no dataset `cifar-10`; did you mean `cifar10`? known: cifar10, cifar100, cifar10c, mnist, fashion-mnist");
        assert_eq!(find("mnist").unwrap().files.len(), 4);
        assert_eq!(find("cifar10c").unwrap().files[0].file, "CIFAR-10-C.tar");
    }
}
