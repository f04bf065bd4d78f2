//! Finding the classes and image files of a dataset folder, in a deterministic order.
use fuzzaug_sdk::PluginError;
use image::ImageFormat;
use std::{
    ffi::OsString,
    fs,
    io::ErrorKind,
    path::{Path, PathBuf},
};

/// File extensions read as images (matched case-insensitively) and their decoders.
pub const EXTENSIONS: [(&str, ImageFormat); 4] = [
    ("png", ImageFormat::Png),
    ("jpg", ImageFormat::Jpeg),
    ("jpeg", ImageFormat::Jpeg),
    ("ppm", ImageFormat::Pnm),
];

/// The extensions as the error messages list them.
const EXTENSION_LIST: &str = ".png, .jpg, .jpeg or .ppm";

/// One image to load.
#[derive(Debug, Clone, PartialEq)]
pub struct ImageFile {
    /// The file, under the dataset folder.
    pub path: PathBuf,
    /// The decoder chosen by its extension.
    pub format: ImageFormat,
    /// Its class index.
    pub label: u32,
}

/// The classes and the image files of both splits, in load order: classes in order, files of a
/// class by name.
#[derive(Debug, Clone, PartialEq)]
pub struct Layout {
    /// The sub-folder names of `train/`, sorted bytewise.
    pub classes: Vec<String>,
    /// The training images.
    pub train: Vec<ImageFile>,
    /// The test images.
    pub test: Vec<ImageFile>,
}

/// Lists `root/train/<class>/*` and `root/test/<class>/*` and checks the layout: both split
/// folders exist and hold images, every class folder holds images, and every test class is a
/// training class (a class may be absent from `test/`). Hidden entries and files with other
/// extensions are ignored.
pub fn scan(root: &Path) -> Result<Layout, PluginError> {
    require_dir(
        root,
        "expected a dataset folder with train/ and test/ sub-folders",
    )?;
    let (train_dir, test_dir) = (root.join("train"), root.join("test"));
    require_dir(
        &train_dir,
        "expected a folder with one sub-folder of training images per class",
    )?;
    require_dir(
        &test_dir,
        "expected a folder with one sub-folder of test images per class",
    )?;

    let classes = class_folders(&train_dir)?;
    let mut train = Vec::new();
    for (label, class) in classes.iter().enumerate() {
        // Class counts are bounded by the folder listing, far below u32::MAX.
        add_class(&train_dir, class, label as u32, &mut train)?;
    }

    let mut test = Vec::new();
    for class in class_folders(&test_dir)? {
        let label = classes.binary_search(&class).map_err(|_| {
            PluginError::new(format!(
                "{}: class folder `{class}` has no counterpart in {} (which has {} classes)",
                test_dir.join(&class).display(),
                train_dir.display(),
                classes.len()
            ))
        })?;
        add_class(&test_dir, &class, label as u32, &mut test)?;
    }
    // Test classes were visited in sorted order, which is also their label order.
    Ok(Layout {
        classes,
        train,
        test,
    })
}

/// Errors unless `path` is a directory; `expected` says what it should hold.
fn require_dir(path: &Path, expected: &str) -> Result<(), PluginError> {
    match fs::metadata(path) {
        Ok(m) if m.is_dir() => Ok(()),
        Ok(_) => Err(PluginError::new(format!(
            "{}: not a directory ({expected})",
            path.display()
        ))),
        Err(e) if e.kind() == ErrorKind::NotFound => Err(PluginError::new(format!(
            "{}: no such directory ({expected})",
            path.display()
        ))),
        Err(e) => Err(PluginError::new(format!("{}: {e}", path.display()))),
    }
}

/// One visible entry of a directory.
struct Entry {
    name: OsString,
    path: PathBuf,
    is_dir: bool,
}

/// The entries of `dir` whose names do not start with a dot, sorted by name (bytewise).
fn visible_entries(dir: &Path) -> Result<Vec<Entry>, PluginError> {
    let listing_error = |e: std::io::Error| {
        PluginError::new(format!("{}: cannot list the folder: {e}", dir.display()))
    };
    let mut entries = Vec::new();
    for entry in fs::read_dir(dir).map_err(listing_error)? {
        let entry = entry.map_err(listing_error)?;
        let name = entry.file_name();
        if name.as_encoded_bytes().starts_with(b".") {
            continue;
        }
        let path = entry.path();
        // `fs::metadata` follows symbolic links, so linked class folders and images work.
        let meta = fs::metadata(&path)
            .map_err(|e| PluginError::new(format!("{}: {e}", path.display())))?;
        entries.push(Entry {
            name,
            path,
            is_dir: meta.is_dir(),
        });
    }
    entries.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(entries)
}

/// The decoder for a file name by its extension, or `None` for a file that is not an image.
pub fn image_format(path: &Path) -> Option<ImageFormat> {
    let ext = path.extension()?.to_str()?;
    EXTENSIONS
        .iter()
        .find(|(e, _)| e.eq_ignore_ascii_case(ext))
        .map(|&(_, f)| f)
}

/// The sorted class-folder names of a split folder; errors on a split with none and on images
/// lying directly in the split folder, which would belong to no class.
fn class_folders(split_dir: &Path) -> Result<Vec<String>, PluginError> {
    let mut classes = Vec::new();
    for entry in visible_entries(split_dir)? {
        if entry.is_dir {
            let name = entry.name.into_string().map_err(|_| {
                PluginError::new(format!(
                    "{}: class folder name is not valid UTF-8",
                    entry.path.display()
                ))
            })?;
            classes.push(name);
        } else if image_format(&entry.path).is_some() {
            return Err(PluginError::new(format!(
                "{}: image outside a class folder (images belong in {}/<class>/)",
                entry.path.display(),
                split_dir.display()
            )));
        }
    }
    if classes.is_empty() {
        return Err(PluginError::new(format!(
            "{}: no images (expected one sub-folder per class holding {EXTENSION_LIST} files)",
            split_dir.display()
        )));
    }
    // `visible_entries` sorted by OS name bytes; UTF-8 names sort the same as strings.
    Ok(classes)
}

/// Appends the images of `split_dir/class` with `label`; errors on a class folder without
/// images and on nested folders, whose images would otherwise be skipped silently.
fn add_class(
    split_dir: &Path,
    class: &str,
    label: u32,
    out: &mut Vec<ImageFile>,
) -> Result<(), PluginError> {
    let dir = split_dir.join(class);
    let before = out.len();
    for entry in visible_entries(&dir)? {
        if entry.is_dir {
            return Err(PluginError::new(format!(
                "{}: unexpected folder inside class folder `{class}` (images must lie directly in {})",
                entry.path.display(),
                dir.display()
            )));
        }
        if let Some(format) = image_format(&entry.path) {
            out.push(ImageFile {
                path: entry.path,
                format,
                label,
            });
        }
    }
    if out.len() == before {
        return Err(PluginError::new(format!(
            "{}: class folder `{class}` holds no images ({EXTENSION_LIST})",
            dir.display()
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use tempfile::TempDir;

    /// Creates empty files (content does not matter to the scan) and folders under a new root.
    fn tree(files: &[&str], dirs: &[&str]) -> TempDir {
        let root = TempDir::new().unwrap();
        for d in dirs {
            fs::create_dir_all(root.path().join(d)).unwrap();
        }
        for f in files {
            let p = root.path().join(f);
            fs::create_dir_all(p.parent().unwrap()).unwrap();
            fs::write(p, b"").unwrap();
        }
        root
    }

    fn names(files: &[ImageFile], root: &Path) -> Vec<(String, u32)> {
        files
            .iter()
            .map(|f| {
                let rel = f.path.strip_prefix(root).unwrap();
                (rel.to_str().unwrap().to_string(), f.label)
            })
            .collect()
    }

    #[test]
    fn classes_and_files_in_sorted_order() {
        let root = tree(
            &[
                "train/b/2.png",
                "train/b/10.PNG",
                "train/b/notes.txt",
                "train/b/.hidden.png",
                "train/a/x.JPEG",
                "train/a/y.jpg",
                "train/a/GT-a.csv",
                "train/B/z.ppm",
                "train/labels.csv",
                "test/b/t.Ppm",
                "test/B/u.png",
                "test/readme.txt",
            ],
            &["train/.cache"],
        );
        let r = root.path();
        let layout = scan(r).unwrap();
        // Bytewise: upper case sorts before lower case.
        assert_eq!(layout.classes, ["B", "a", "b"]);
        assert_eq!(
            names(&layout.train, r),
            [
                ("train/B/z.ppm".to_string(), 0),
                ("train/a/x.JPEG".to_string(), 1),
                ("train/a/y.jpg".to_string(), 1),
                ("train/b/10.PNG".to_string(), 2),
                ("train/b/2.png".to_string(), 2),
            ]
        );
        assert_eq!(
            names(&layout.test, r),
            [
                ("test/B/u.png".to_string(), 0),
                ("test/b/t.Ppm".to_string(), 2)
            ]
        );
        let formats: Vec<ImageFormat> = layout.train.iter().map(|f| f.format).collect();
        assert_eq!(
            formats,
            [
                ImageFormat::Pnm,
                ImageFormat::Jpeg,
                ImageFormat::Jpeg,
                ImageFormat::Png,
                ImageFormat::Png
            ]
        );
    }

    fn scan_error(root: &TempDir) -> String {
        scan(root.path()).unwrap_err().message.to_string()
    }

    #[test]
    fn missing_folders() {
        let root = tree(&[], &[]);
        let r = root.path().display();
        let missing = root.path().join("nope");
        assert_eq!(
            scan(&missing).unwrap_err().message.as_str(),
            format!("{r}/nope: no such directory (expected a dataset folder with train/ and test/ sub-folders)")
        );
        assert_eq!(
            scan_error(&root),
            format!("{r}/train: no such directory (expected a folder with one sub-folder of training images per class)")
        );
        let root = tree(&["train/a/x.png"], &[]);
        let r = root.path().display();
        assert_eq!(
            scan_error(&root),
            format!("{r}/test: no such directory (expected a folder with one sub-folder of test images per class)")
        );
        let root = tree(&["train/a/x.png", "test"], &[]);
        let r = root.path().display();
        assert_eq!(
            scan_error(&root),
            format!("{r}/test: not a directory (expected a folder with one sub-folder of test images per class)")
        );
    }

    #[test]
    fn empty_splits() {
        let root = tree(&["train/notes.txt", "test/a/x.png"], &["train/.git"]);
        let r = root.path().display();
        assert_eq!(
            scan_error(&root),
            format!("{r}/train: no images (expected one sub-folder per class holding .png, .jpg, .jpeg or .ppm files)")
        );
        let root = tree(&["train/a/x.png", "test/labels.csv"], &[]);
        let r = root.path().display();
        assert_eq!(
            scan_error(&root),
            format!("{r}/test: no images (expected one sub-folder per class holding .png, .jpg, .jpeg or .ppm files)")
        );
    }

    #[test]
    fn class_folder_without_images() {
        let root = tree(&["train/a/x.png", "train/b/x.txt", "test/a/y.png"], &[]);
        let r = root.path().display();
        assert_eq!(
            scan_error(&root),
            format!("{r}/train/b: class folder `b` holds no images (.png, .jpg, .jpeg or .ppm)")
        );
        let root = tree(&["train/a/x.png", "train/b/x.png"], &["test/b"]);
        let r = root.path().display();
        assert_eq!(
            scan_error(&root),
            format!("{r}/test/b: class folder `b` holds no images (.png, .jpg, .jpeg or .ppm)")
        );
    }

    #[test]
    fn unknown_test_class() {
        let root = tree(&["train/a/x.png", "train/b/x.png", "test/c/y.png"], &[]);
        let r = root.path().display();
        assert_eq!(
            scan_error(&root),
            format!("{r}/test/c: class folder `c` has no counterpart in {r}/train (which has 2 classes)")
        );
    }

    #[test]
    fn stray_images_and_nested_folders() {
        let root = tree(&["train/a/x.png", "train/y.jpg", "test/a/y.png"], &[]);
        let r = root.path().display();
        assert_eq!(
            scan_error(&root),
            format!("{r}/train/y.jpg: image outside a class folder (images belong in {r}/train/<class>/)")
        );
        let root = tree(
            &["train/a/x.png", "train/a/more/z.png", "test/a/y.png"],
            &[],
        );
        let r = root.path().display();
        assert_eq!(
            scan_error(&root),
            format!("{r}/train/a/more: unexpected folder inside class folder `a` (images must lie directly in {r}/train/a)")
        );
    }

    #[test]
    fn extensions_match_case_insensitively() {
        for (name, format) in [
            ("a.png", Some(ImageFormat::Png)),
            ("a.JpG", Some(ImageFormat::Jpeg)),
            ("a.jpeg", Some(ImageFormat::Jpeg)),
            ("a.PPM", Some(ImageFormat::Pnm)),
            ("a.pgm", None),
            ("a.csv", None),
            ("png", None),
            ("a.png.bak", None),
        ] {
            assert_eq!(image_format(Path::new(name)), format, "{name}");
        }
    }
}
