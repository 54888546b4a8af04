//! `spor report`: the page renders in headless Chromium (Debian's
//! `chromium`, installed by .ci/run) without console errors, and the figures
//! read back from the rendered page equal those of `spor survey --publish`.

use std::process::Command;

use crate::spor;

/// (section, code, key) -> the cell's text, from the rendered DOM.
fn figures(dom: &str) -> Vec<(String, String, String, String)> {
    let mut out = Vec::new();
    for part in dom.split("data-section=\"").skip(1) {
        let field = |name: &str| {
            let start = part
                .find(&format!("{name}=\""))
                .map(|i| i + name.len() + 2)?;
            let end = part[start..].find('"')? + start;
            Some(part[start..end].to_owned())
        };
        let section = part.split('"').next().unwrap_or_default().to_owned();
        let (Some(code), Some(key)) = (field("data-code"), field("data-key")) else {
            continue;
        };
        let text_start = part.find('>').map(|i| i + 1).unwrap_or(0);
        let text_end = part[text_start..]
            .find('<')
            .map_or(part.len(), |i| i + text_start);
        out.push((section, code, key, part[text_start..text_end].to_owned()));
    }
    out
}

fn chromium() -> Command {
    let mut c = Command::new("chromium");
    c.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--no-first-run",
        "--disable-sync",
        "--enable-logging=stderr",
        "--v=0",
    ]);
    c
}

#[test]
fn the_report_renders_without_errors_and_shows_the_published_figures() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let out = tmp.path().join("report");
    spor(&data)
        .args(["demo", "--participants", "600", "--seed", "9"])
        .assert()
        .success();
    spor(&data)
        .args(["report", "--year", "2007", "--out"])
        .arg(&out)
        .assert()
        .success();
    let page = out.join("report.html");
    let rendered = chromium()
        .arg(format!(
            "--user-data-dir={}",
            tmp.path().join("chromium").display()
        ))
        .arg("--dump-dom")
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("Debian's chromium is installed (.ci/run installs it)");
    assert!(
        rendered.status.success(),
        "chromium failed: {}",
        String::from_utf8_lossy(&rendered.stderr)
    );
    let log = String::from_utf8_lossy(&rendered.stderr);
    assert!(
        !log.contains("CONSOLE") && !log.contains("Uncaught"),
        "console messages: {log}"
    );
    let dom = String::from_utf8(rendered.stdout).unwrap();
    assert!(!dom.contains("<script"), "no JavaScript");

    let survey = spor(&data)
        .args([
            "survey",
            "--year",
            "2007",
            "--by",
            "county",
            "--publish",
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&survey.stdout).unwrap();
    let shown = figures(&dom);
    let mut compared = 0;
    for row in v["rows"].as_array().unwrap().iter().chain([&v["total"]]) {
        let code = row["code"].as_str().unwrap();
        for key in ["q1", "q2", "q4"] {
            let expected = row["answers"][key]
                .as_u64()
                .map_or_else(|| ":".to_owned(), |n| n.to_string());
            let on_page = shown
                .iter()
                .find(|(s, c, k, _)| s == "participants" && c == code && k == key)
                .unwrap_or_else(|| panic!("{code} {key} is not on the page"));
            // The page writes 1 415 with a no-break space; the survey 1415.
            assert_eq!(on_page.3.replace('\u{a0}', ""), expected, "{code} {key}");
            compared += 1;
        }
        if let Some(on_page) = shown
            .iter()
            .find(|(s, c, k, _)| s == "counties" && c == code && k == "work_or_education")
        {
            let expected = row["indicators"]["work_or_education"]
                .as_u64()
                .map_or_else(|| ":".to_owned(), |n| n.to_string());
            assert_eq!(
                on_page.3.replace('\u{a0}', ""),
                expected,
                "{code} work_or_education"
            );
            compared += 1;
        }
    }
    assert!(compared > 30, "compared {compared} figures");

    // The CSV, read as a spreadsheet would (a second reader: the csv
    // crate), holds every figure of the page with the same value.
    let bytes = std::fs::read(out.join("report.csv")).unwrap();
    assert!(
        bytes.starts_with(b"\xEF\xBB\xBF"),
        "UTF-8 with a byte-order mark"
    );
    let mut reader = csv::Reader::from_reader(&bytes[3..]);
    assert_eq!(
        reader.headers().unwrap(),
        vec!["tabell", "kode", "rad", "nøkkel", "tall", "verdi"]
    );
    let lines: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(lines.len(), shown.len(), "one line per figure on the page");
    for (line, (section, code, key, text)) in lines.iter().zip(&shown) {
        assert_eq!(
            (&line[1], &line[3]),
            (code.as_str(), key.as_str()),
            "{section}"
        );
        // The page: 1 415 and 62,5 %; the CSV: 1415 and 62.5.
        let page = text
            .replace("&nbsp;", "")
            .replace(['\u{a0}', '%'], "")
            .replace(',', ".");
        assert_eq!(line[5], page, "{section} {code} {key}");
    }
    let q1 = lines
        .iter()
        .find(|l| &l[1] == "03" && &l[3] == "q1")
        .unwrap();
    assert_eq!(
        &q1[4], "q1 Deltakere i løpet av året",
        "the questionnaire's wording"
    );
}
