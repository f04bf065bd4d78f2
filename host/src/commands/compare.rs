//! `fuzzaug compare RUN_DIR... --out DIR`.
use crate::{cli::CompareArgs, compare};

/// Writes the comparison and prints the table and where the files are.
pub fn run(args: &CompareArgs) -> anyhow::Result<u8> {
    let report = compare::write(&args.runs, &args.out, args.zoom)?;
    print!("{}", compare::table::markdown(&report.runs));
    for r in report.runs.iter().filter(|r| !r.finished) {
        println!(
            "note: {} is {}: its latest figures are shown",
            r.dir.display(),
            r.status()
        );
    }
    println!(
        "wrote {} files to {} (open {})",
        report.files.len(),
        args.out.display(),
        args.out.join("report.html").display()
    );
    Ok(0)
}
