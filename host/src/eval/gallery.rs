//! The failures a user can look at: `failures.png` (each test image beside its misclassified
//! variant, captioned with the genes, the true and predicted class and the confidence) and
//! `failures.jsonl` (one [`FailureRecord`] per line), and rebuilding one of them exactly.
use super::{classify, FailureRecord};
use crate::{
    report::preview::{pictures, render},
    train::Session,
};
use anyhow::Context;
use std::path::Path;

/// The JSONL file's name beside `eval.json`.
pub const JSONL: &str = "failures.jsonl";
/// The picture's name beside `eval.json`.
pub const PNG: &str = "failures.png";

fn fmt(v: f64) -> String {
    let s = format!("{v:.3}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// Writes `failures.jsonl` and `failures.png` into `dir`.
pub fn write(session: &Session, failures: &[FailureRecord], dir: &Path) -> anyhow::Result<()> {
    let lines: Vec<String> = failures
        .iter()
        .map(serde_json::to_string)
        .collect::<Result<_, _>>()?;
    let jsonl = dir.join(JSONL);
    crate::atomic::write(&jsonl, (lines.join("\n") + "\n").as_bytes())
        .with_context(|| format!("writing {}", jsonl.display()))?;
    if failures.is_empty() {
        return Ok(());
    }
    let mut rows = Vec::new();
    let identity = session.engine().identity();
    for f in failures {
        let owner = [f.index as i64];
        let (original, _) =
            session.variant_pixels(&session.data.test, &owner, &[], &identity, 0)?;
        let (variant, _) =
            session.variant_pixels(&session.data.test, &owner, &[], &f.chromosome, f.context)?;
        let mut caption = vec![
            format!("#{} {}", f.index, f.protocol),
            format!(
                "{} → {} ({:.2})",
                f.true_class, f.predicted_class, f.confidence
            ),
        ];
        caption.extend(f.genes.iter().map(|(g, v)| format!("{g} {}", fmt(*v))));
        let mut pics = pictures(&original)?;
        pics.extend(pictures(&variant)?);
        rows.push((caption.join("\n"), pics));
    }
    let png = dir.join(PNG);
    render(&png, &["original".into(), "variant".into()], &rows, None)
        .with_context(|| format!("writing {}", png.display()))
}

/// Rebuilds failure `line` (1-based) of `dir/failures.jsonl` and classifies it again: the
/// record and what the model says now.
pub fn replay(
    session: &Session,
    dir: &Path,
    line: usize,
) -> anyhow::Result<(FailureRecord, u32, f32)> {
    let path = dir.join(JSONL);
    let text = std::fs::read_to_string(&path).with_context(|| {
        format!(
            "cannot read {} (write it with --failures N)",
            path.display()
        )
    })?;
    let count = text.lines().filter(|l| !l.trim().is_empty()).count();
    let raw = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .nth(line.wrapping_sub(1))
        .with_context(|| {
            format!(
                "{} has {count} failures; there is no failure {line}",
                path.display()
            )
        })?;
    let record: FailureRecord = serde_json::from_str(raw)
        .with_context(|| format!("{}: failure {line} is not a failure record", path.display()))?;
    if record.chromosome.len() != session.parts.genes.len()
        || record.index >= session.data.test.len() as usize
    {
        anyhow::bail!(
            "{}: failure {line} has {} genes and test image {}, this threat model {} genes and {} test images",
            path.display(),
            record.chromosome.len(),
            record.index,
            session.parts.genes.len(),
            session.data.test.len()
        );
    }
    let pass = classify(
        session,
        &[record.index as i64],
        &record.chromosome,
        record.context,
    )?;
    Ok((record, pass.predicted[0], pass.confidence[0]))
}
