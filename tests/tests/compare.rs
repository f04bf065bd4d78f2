//! `fuzzaug compare` over real runs: the table, figures and HTML report, unfinished runs, the
//! errors for directories that are not runs, and the report rendered by headless Chromium.
use fuzzaug_tests::{fuzzaug, fuzzaug_in, Scratch};
use std::path::{Path, PathBuf};

/// Every figure compare draws, by file stem.
const FIGURE_STEMS: [&str; 6] = [
    "train_loss",
    "test_loss",
    "lr",
    "test_acc",
    "robust_acc",
    "robust_vs_time",
];

fn config(name: &str, strategy: &str, extra: &str) -> String {
    format!(
        "name = \"{name}\"\nseed = 2\ndevice = \"cpu\"\n[dataset]\nname = \"shapes\"\ntrain_size = 96\ntest_size = 32\nsize = 16\n\
         [train]\nepochs = 2\nbatch_size = 32\n[[transforms]]\nname = \"rotation\"\nstep = 5\n\
         [strategy]\nname = \"{strategy}\"\n{extra}[eval]\nrobust_every = 1\nrobust_subset = 16\n"
    )
}

/// Trains four strategies in `dir`; returns their run directories.
fn four_runs(dir: &Scratch) -> Vec<PathBuf> {
    ["standard", "random", "w10", "sensei"]
        .iter()
        .map(|s| {
            let extra = match *s {
                "w10" => "k = 3\n",
                "sensei" => "population = 3\n",
                _ => "",
            };
            dir.write(&format!("{s}.toml"), &config(s, s, extra));
            fuzzaug_in(&["run", &format!("{s}.toml"), "--quiet"], Some(dir.path())).ok();
            dir.path().join("runs").join(s)
        })
        .collect()
}

fn compare(runs: &[PathBuf], out: &Path) -> fuzzaug_tests::Run {
    let mut args: Vec<String> = vec!["compare".into()];
    args.extend(runs.iter().map(|r| r.display().to_string()));
    args.extend(["--out".into(), out.display().to_string()]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    fuzzaug(&args)
}

#[test]
fn compare_writes_table_figures_and_report_and_marks_unfinished_runs() {
    let dir = Scratch::new();
    let runs = four_runs(&dir);
    let out = dir.path().join("cmp");
    let stdout = compare(&runs, &out).ok().to_string();
    // table.md, table.csv, report.html and each figure as PNG and SVG.
    let files = 3 + 2 * FIGURE_STEMS.len();
    assert!(
        stdout.contains(&format!("wrote {files} files to")),
        "{stdout}"
    );

    let csv = std::fs::read_to_string(out.join("table.csv")).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines[0],
        "run,status,group,dataset,model,space,strategy,standard_acc,robust_acc,robust_grid,robust_subset,wall_time,epochs,device"
    );
    assert_eq!(lines.len(), 5, "{csv}");
    for (line, s) in lines[1..]
        .iter()
        .zip(["standard", "random", "w10", "sensei"])
    {
        let c: Vec<&str> = line.split(',').collect();
        assert_eq!(
            (c[0], c[1], c[2], c[3], c[4], c[5], c[6]),
            (s, "finished", "A", "shapes", "small-cnn", "discrete", s),
            "{line}"
        );
        assert_eq!(
            (c[9], c[10], c[12], c[13]),
            ("3", "16", "2/2", "cpu"),
            "{line}"
        );
        let wall: Vec<&str> = c[11].split(':').collect();
        assert_eq!(wall.len(), 3, "h:mm:ss: {}", c[11]);
        let acc: f64 = c[7].parse().unwrap();
        assert!((0.0..=1.0).contains(&acc));
        // The table must agree with the run's own summary.
        let summary: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(dir.path().join("runs").join(s).join("summary.json")).unwrap(),
        )
        .unwrap();
        assert!((acc - summary["test_acc"].as_f64().unwrap()).abs() < 1e-6);
    }
    let md = std::fs::read_to_string(out.join("table.md")).unwrap();
    assert!(md.starts_with("| run | dataset | model | space | strategy | standard acc | robust acc | robust grid × images | wall time | epochs | device |"), "{md}");
    assert!(
        md.matches("**").count() >= 6,
        "best of three columns marked: {md}"
    );
    for stem in FIGURE_STEMS {
        let png = std::fs::read(out.join(format!("{stem}.png"))).unwrap();
        assert_eq!(&png[..4], b"\x89PNG");
        let svg = std::fs::read_to_string(out.join(format!("{stem}.svg"))).unwrap();
        assert!(svg.contains("<svg"), "{stem}");
        for s in ["standard", "random", "w10", "sensei"] {
            let legend = svg
                .split('>')
                .any(|chunk| chunk.split('<').next().map(str::trim) == Some(s));
            assert!(legend, "{stem}.svg has no legend entry {s}");
        }
    }
    readable_plots(&runs, &out);
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert_eq!(html.matches("<figure").count(), FIGURE_STEMS.len());
    captions_do_not_repeat_titles(&html);
    assert!(
        !html.contains("src=\"http") && !html.contains("href=\"http"),
        "self-contained"
    );
    assert!(
        html.contains("name = &quot;sensei&quot;"),
        "resolved configs are embedded"
    );

    // An unfinished run: drop its summary and its last epoch.
    let half = runs[3].clone();
    std::fs::remove_file(half.join("summary.json")).unwrap();
    let csv_path = half.join("metrics.csv");
    let text = std::fs::read_to_string(&csv_path).unwrap();
    let kept: Vec<&str> = text.lines().take(2).collect();
    std::fs::write(&csv_path, kept.join("\n") + "\n").unwrap();
    let stdout = compare(&runs, &out).ok().to_string();
    assert!(
        stdout.contains(&format!(
            "note: {} is unfinished (1/2 epochs)",
            half.display()
        )),
        "{stdout}"
    );
    assert!(
        stdout.contains("| sensei (unfinished (1/2 epochs)) |"),
        "{stdout}"
    );
    let csv = std::fs::read_to_string(out.join("table.csv")).unwrap();
    assert!(csv.contains("sensei,unfinished (1/2 epochs),A,"), "{csv}");

    browser_renders(&out.join("report.html"), dir.path());
}

/// The text of every `<text>` element of an SVG, in drawing order.
fn svg_texts(svg: &str) -> Vec<String> {
    svg.split("<text")
        .skip(1)
        .filter_map(|t| {
            Some(
                t.split_once('>')?
                    .1
                    .split_once("</text>")?
                    .0
                    .trim()
                    .to_string(),
            )
        })
        .collect()
}

/// The distinct colours of a PNG.
fn png_colours(path: &Path) -> std::collections::HashSet<[u8; 3]> {
    let png = image::open(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .to_rgb8();
    png.pixels().map(|p| p.0).collect()
}

fn rgb(c: &fuzzaug::report::plot::RGBColor) -> [u8; 3] {
    [c.0, c.1, c.2]
}

/// Each run wrote its five plots, drawn in the palette; compare's figures use one palette colour
/// per run, whole-epoch ticks and accuracy axes from 0 to 1.
fn readable_plots(runs: &[PathBuf], out: &Path) {
    use fuzzaug::report::plot::PALETTE;
    for run in runs {
        let mut files: Vec<String> = std::fs::read_dir(run.join("plots"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        files.sort();
        assert_eq!(
            files,
            [
                "lr.png",
                "robust_acc.png",
                "test_acc.png",
                "test_loss.png",
                "train_loss.png"
            ],
            "{}",
            run.display()
        );
        for f in &files {
            let colours = png_colours(&run.join("plots").join(f));
            assert!(
                colours.contains(&rgb(&PALETTE[0])),
                "{f} of {} drawn in the palette's first colour",
                run.display()
            );
        }
    }
    for stem in FIGURE_STEMS {
        let colours = png_colours(&out.join(format!("{stem}.png")));
        for c in &PALETTE[..4] {
            assert!(colours.contains(&rgb(c)), "{stem}.png: a line in {c:?}");
        }
        let yellow = [0xF0, 0xE4, 0x42];
        assert!(!colours.contains(&yellow), "{stem}.png has no yellow");
        let svg = std::fs::read_to_string(out.join(format!("{stem}.svg"))).unwrap();
        let texts = svg_texts(&svg);
        let numbers: Vec<f64> = texts.iter().filter_map(|t| t.parse().ok()).collect();
        if stem != "robust_vs_time" {
            // Two epochs: the x ticks are 1 and 2, and nothing in between.
            assert!(
                texts.iter().any(|t| t == "1") && texts.iter().any(|t| t == "2"),
                "{stem}: {texts:?}"
            );
            // (A loss axis may have such a tick of its own.)
            assert!(
                stem == "test_loss" || !numbers.iter().any(|v| [1.5, 1.25, 1.75].contains(v)),
                "{stem}: no fractional epoch tick in {texts:?}"
            );
        }
        if stem.ends_with("_acc") || stem == "robust_vs_time" {
            for t in ["0.0", "0.5", "1.0"] {
                assert!(
                    texts.iter().any(|x| x == t),
                    "{stem}: accuracy axis from 0 to 1 has {t}: {texts:?}"
                );
            }
        }
    }
}

/// Under each figure of the report, a caption that says something other than the title the
/// figure already shows.
fn captions_do_not_repeat_titles(html: &str) {
    for figure in html.split("<figure").skip(1) {
        let title = svg_texts(figure)
            .into_iter()
            .next()
            .expect("a title drawn in the figure");
        let caption = figure
            .split_once("<figcaption>")
            .and_then(|(_, c)| c.split_once("</figcaption>"))
            .map(|(c, _)| c.trim())
            .expect("a caption");
        assert!(caption.len() > 20, "a real caption: {caption:?}");
        assert!(
            !caption.to_lowercase().contains(&title.to_lowercase()),
            "caption {caption:?} repeats the title {title:?}"
        );
    }
}

/// Opens the report in headless Chromium: the DOM after load holds the table's rows and every
/// figure's drawing, and a screenshot is written.
fn browser_renders(report: &Path, scratch: &Path) {
    let browser = ["chromium", "chromium-browser", "google-chrome"]
        .into_iter()
        .find(|b| {
            std::process::Command::new(b)
                .arg("--version")
                .output()
                .is_ok_and(|o| o.status.success())
        })
        .expect("headless Chromium is needed for this test: `apt-get install chromium` (.ci/run installs it)");
    let url = format!("file://{}", report.display());
    let flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--user-data-dir",
    ];
    let profile = scratch.join("chromium-profile");
    let base = |extra: &str| {
        let mut c = std::process::Command::new(browser);
        c.args(&flags[..3])
            .arg(format!("{}={}", flags[3], profile.display()))
            .arg(extra);
        c
    };
    let dom = base("--dump-dom").arg(&url).output().unwrap();
    assert!(
        dom.status.success(),
        "{}",
        String::from_utf8_lossy(&dom.stderr)
    );
    let dom = String::from_utf8_lossy(&dom.stdout);
    assert_eq!(dom.matches("<tr>").count(), 5, "header + 4 rows rendered");
    assert_eq!(dom.matches("<figure").count(), FIGURE_STEMS.len());
    assert!(
        dom.matches("<polyline").count() + dom.matches("<path").count() >= 16,
        "curves drawn"
    );
    let shot = scratch.join("shot.png");
    let out = base(&format!("--screenshot={}", shot.display()))
        .arg("--window-size=1200,2400")
        .arg(&url)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let png = image::open(&shot).expect("a screenshot").to_rgb8();
    // Not blank: the table and the curves put many distinct colours on the page.
    let colours: std::collections::HashSet<[u8; 3]> = png.pixels().map(|p| p.0).collect();
    assert!(
        colours.len() > 20,
        "{} colours in the screenshot",
        colours.len()
    );
}

#[test]
fn bad_inputs_are_clear_errors() {
    let dir = Scratch::new();
    let out = dir.path().join("cmp");
    let not_run = dir.path().join("plain");
    std::fs::create_dir_all(&not_run).unwrap();
    let err = compare(std::slice::from_ref(&not_run), &out)
        .fails()
        .to_string();
    assert!(
        err.contains(&format!(
            "{} is not a run directory: it has no config.toml (`fuzzaug run` writes config.toml and metrics.csv there)",
            not_run.display()
        )),
        "{err}"
    );
    let missing = dir.path().join("nope");
    let err = compare(std::slice::from_ref(&missing), &out)
        .fails()
        .to_string();
    assert!(
        err.contains(&format!("{}: not a directory", missing.display())),
        "{err}"
    );

    // A run that has started but finished no epoch.
    let fresh = dir.path().join("fresh");
    std::fs::create_dir_all(&fresh).unwrap();
    std::fs::write(fresh.join("config.toml"), config("fresh", "standard", "")).unwrap();
    std::fs::write(
        fresh.join("metrics.csv"),
        "epoch,lr,train_loss,train_acc,test_loss,test_acc,robust_acc,epoch_seconds,train_images_per_second,scored_candidates,skipped_robust\n",
    )
    .unwrap();
    let err = compare(std::slice::from_ref(&fresh), &out)
        .fails()
        .to_string();
    assert!(
        err.contains(&format!(
            "{}: no finished epoch yet (metrics.csv has no rows)",
            fresh.display()
        )),
        "{err}"
    );
    let run = fuzzaug(&["compare", "--out", out.to_str().unwrap()]);
    assert_eq!(run.code, Some(2), "clap usage error");
    assert!(
        run.stderr
            .contains("the following required arguments were not provided")
            && run.stderr.contains("<RUNS>"),
        "{}",
        run.stderr
    );
}

/// Runs that differ only in seed are aggregated as mean ± std with their count, and each
/// `fuzzaug eval` protocol is its own column, compared only with the same threat and images.
#[test]
fn seeds_are_aggregated_and_each_protocol_is_a_column() {
    let dir = Scratch::new();
    let mut runs = Vec::new();
    for seed in [2, 3] {
        let name = format!("s{seed}");
        let text = config(&name, "standard", "").replace("seed = 2", &format!("seed = {seed}"));
        dir.write(&format!("{name}.toml"), &text);
        fuzzaug_in(
            &["run", &format!("{name}.toml"), "--quiet"],
            Some(dir.path()),
        )
        .ok();
        runs.push(dir.path().join("runs").join(&name));
    }
    // A third run with another strategy is not in the seed group.
    dir.write("w.toml", &config("w", "w10", "k = 2\n"));
    fuzzaug_in(&["run", "w.toml", "--quiet"], Some(dir.path())).ok();
    runs.push(dir.path().join("runs/w"));
    dir.write(
        "rot.toml",
        "robust_subset = 16\n[[transforms]]\nname = \"rotation\"\nrange = [-20, 20]\n[[protocols]]\nkind = \"grid\"\npoints = 9\n",
    );
    fuzzaug_in(
        &["eval", "runs/s2", "--threat", "rot.toml"],
        Some(dir.path()),
    )
    .ok();
    let out = dir.path().join("cmp");
    compare(&runs, &out).ok();
    let md = std::fs::read_to_string(out.join("table.md")).unwrap();
    assert!(md.contains("robust acc, rot: grid-9 on 16"), "{md}");
    let seeds = md
        .split("Over seeds")
        .nth(1)
        .unwrap_or_else(|| panic!("{md}"));
    let row = seeds
        .lines()
        .find(|l| l.starts_with("| s2, s3 | 2 | "))
        .unwrap_or_else(|| panic!("{seeds}"));
    assert!(row.matches(" ± ").count() == 2, "{row}");
    assert!(
        !seeds.contains("| w"),
        "w10 is not a seed of standard: {seeds}"
    );
    let csv = std::fs::read_to_string(out.join("table.csv")).unwrap();
    let head = csv.lines().next().unwrap();
    assert!(head.ends_with(",robust_acc[rot: grid-9 on 16]"), "{head}");
    let s3 = csv.lines().find(|l| l.starts_with("s3,")).unwrap();
    assert!(s3.ends_with(','), "s3 has no eval: {s3}");
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.contains("<table id=\"seeds\">") && html.contains("<td>s2, s3</td><td>2</td>"));
}
