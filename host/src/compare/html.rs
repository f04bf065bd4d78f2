//! `report.html`: one self-contained page (figures inlined as SVG, no external assets) with the
//! table, the figures and each run's resolved config.
use super::{record::Record, table};
use anyhow::Context;
use std::path::Path;

/// Escapes text for HTML.
pub fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

const STYLE: &str = "body{font-family:sans-serif;margin:2em auto;max-width:1100px;color:#222}\
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #bbb;padding:4px 8px;\
text-align:left}th{background:#eee}.best{font-weight:bold;background:#e6f4e6}\
figure{margin:1.5em 0}figure svg{max-width:100%;height:auto;border:1px solid #ddd}\
pre{background:#f6f6f6;padding:1em;overflow-x:auto}.note{color:#555}";

/// Builds the page from the runs and the figures already written in `out`, each given as
/// (stem, caption). The title is drawn in each figure, so the caption under it says what the
/// figure shows instead of repeating it.
pub fn write(out: &Path, runs: &[Record], figures: &[(&str, &str)]) -> anyhow::Result<()> {
    let (head, rows) = table::cells(runs);
    let mut page = format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>fuzzaug comparison</title><style>{STYLE}</style></head><body>\n\
         <h1>fuzzaug comparison of {} runs</h1>\n<table id=\"runs\"><thead><tr>",
        runs.len()
    );
    for h in &head {
        page += &format!("<th>{}</th>", escape(h));
    }
    page += "</tr></thead><tbody>\n";
    for row in rows {
        page += "<tr>";
        for cell in row {
            let class = if cell.best { " class=\"best\"" } else { "" };
            page += &format!("<td{class}>{}</td>", escape(&cell.text));
        }
        page += "</tr>\n";
    }
    page += "</tbody></table>\n<p class=\"note\">Best value per column highlighted (highest \
             accuracy, shortest wall time). Robust accuracy counts a test image only if every \
             grid chromosome classifies it correctly.</p>\n";
    if let Some(note) = table::groups_note(runs) {
        page += &format!("<p class=\"note\">{}</p>\n", escape(&note));
    }
    let seeds = table::over_seeds(runs);
    if !seeds.is_empty() {
        page += "<h2>Over seeds</h2>\n<p class=\"note\">Runs that differ only in <code>seed</code>: \
                 mean ± standard deviation.</p>\n<table id=\"seeds\"><thead><tr><th>runs</th><th>n</th>\
                 <th>standard acc</th><th>robust acc</th></tr></thead><tbody>\n";
        for s in &seeds {
            page += &format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
                escape(&s.runs.join(", ")),
                s.runs.len(),
                escape(&s.standard),
                escape(&s.robust)
            );
        }
        page += "</tbody></table>\n";
    }
    for (stem, caption) in figures {
        let path = out.join(format!("{stem}.svg"));
        let svg = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        let svg = svg.trim_start_matches(|c| c != '<');
        let svg = match svg.find("<svg") {
            Some(at) => &svg[at..],
            None => svg,
        };
        page += &format!(
            "<figure id=\"{stem}\">{svg}<figcaption>{}</figcaption></figure>\n",
            escape(caption)
        );
    }
    page += "<h2>Resolved configs</h2>\n";
    for r in runs {
        page += &format!(
            "<details><summary>{} ({})</summary><pre>{}</pre></details>\n",
            escape(&r.name),
            escape(&r.dir.display().to_string()),
            escape(&r.config_text)
        );
    }
    page += "</body></html>\n";
    let path = out.join("report.html");
    crate::atomic::write(&path, page.as_bytes())
        .with_context(|| format!("writing {}", path.display()))
}
