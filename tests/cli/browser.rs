//! Pages in a real browser: Debian's chromium driven through chromedriver
//! (both installed by .ci/run), with axe-core (npm, `npm ci` at the root)
//! injected into the page. Reliability A1 and WCAG 1.4.10 (reflow at
//! 320 px): no violation axe finds, no horizontal scroll of the page
//! itself, and no text under 12 px on a phone.
//!
//! `SPOR_SCREENSHOTS=DIR` keeps a screenshot of every page at every width
//! in DIR (docs/screenshots/ holds the ones looked at).

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder};
use serde_json::{Value, json};

use crate::spor;

/// The widths pages are read at: a desktop, a phone, and WCAG's 320 px.
const WIDTHS: [u32; 3] = [1280, 375, 320];

/// chromedriver on a free loopback port, stopped when dropped.
struct Driver {
    child: Child,
    url: String,
}

impl Driver {
    fn start() -> Self {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .unwrap();
        let child = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("Debian's chromium-driver is installed (.ci/run installs it)");
        let url = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "chromedriver did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        Self { child, url }
    }

    /// A headless chromium whose viewport is `width` by `height` px. A
    /// window is never narrower than 500 px, so a phone's width is
    /// chromium's device emulation (as its developer tools do it).
    async fn session(&self, width: u32, height: u32, profile: &Path) -> Client {
        let mut caps = serde_json::Map::new();
        let mut options = json!({
                "binary": "/usr/bin/chromium",
                "args": [
                    "--headless",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-background-networking",
                    "--disable-component-update",
                    "--no-first-run",
                    "--disable-sync",
                    "--hide-scrollbars",
                    format!("--window-size={},{height}", width.max(500)),
                    format!("--user-data-dir={}", profile.display()),
                ],
        });
        if width < 500 {
            options["mobileEmulation"] =
                json!({"deviceMetrics": {"width": width, "height": height, "pixelRatio": 1.0}});
        }
        caps.insert("goog:chromeOptions".into(), options);
        ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(caps)
            .connect(&self.url)
            .await
            .expect("a chromium session")
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// axe-core's script, from `npm ci`.
fn axe_script() -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../node_modules/axe-core/axe.min.js");
    std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}; run `npm ci` in the repository's root",
            path.display()
        )
    })
}

/// What a page is checked for, at one width.
#[derive(Debug)]
pub struct Reading {
    pub width: u32,
    /// The viewport's width, as the page sees it.
    pub inner_width: u64,
    /// The page's own width: wider than the viewport means it scrolls
    /// sideways.
    pub scroll_width: u64,
    /// The smallest computed font size of any visible text, in px.
    pub smallest_text: f64,
    /// The violations axe found (WCAG 2.0 and 2.1, A and AA).
    pub violations: Vec<Value>,
}

/// The smallest font size of an element that shows text.
const SMALLEST_TEXT: &str = r"
let smallest = 1000;
for (const el of document.body.querySelectorAll('*')) {
  const own = [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim() !== '');
  if (!own || el.offsetParent === null && getComputedStyle(el).position !== 'fixed') continue;
  const r = el.getBoundingClientRect();
  if (r.width === 0 || r.height === 0 || r.right < 0) continue;
  smallest = Math.min(smallest, parseFloat(getComputedStyle(el).fontSize));
}
return smallest;";

const RUN_AXE: &str = r"
const done = arguments[arguments.length - 1];
axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})
  .then(r => done(r.violations.map(v => ({id: v.id, help: v.help, nodes: v.nodes.map(n => n.target)}))))
  .catch(e => done([{id: 'axe failed', help: String(e)}]));";

/// Opens `url` at every width and reads it; keeps screenshots named
/// `{name}-{width}.png` where `SPOR_SCREENSHOTS` says.
pub fn read_page(url: &str, name: &str, scratch: &Path) -> Vec<Reading> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let axe = axe_script();
    let keep: Option<PathBuf> = std::env::var_os("SPOR_SCREENSHOTS").map(PathBuf::from);
    let driver = Driver::start();
    runtime.block_on(async {
        let mut readings = Vec::new();
        for width in WIDTHS {
            let profile = scratch.join(format!("chromium-{width}"));
            let client = driver.session(width, 900, &profile).await;
            client.goto(url).await.unwrap();
            let number = |v: Value| v.as_f64().unwrap_or(f64::NAN);
            let inner = client
                .execute("return window.innerWidth;", vec![])
                .await
                .unwrap();
            let scroll = client
                .execute("return document.documentElement.scrollWidth;", vec![])
                .await
                .unwrap();
            let smallest = client.execute(SMALLEST_TEXT, vec![]).await.unwrap();
            client.execute(&axe, vec![]).await.unwrap();
            let violations = client.execute_async(RUN_AXE, vec![]).await.unwrap();
            let height = client
                .execute("return document.documentElement.scrollHeight;", vec![])
                .await
                .unwrap();
            client.close().await.unwrap();
            if let Some(dir) = &keep {
                // The whole page: a viewport as tall as the document.
                let h = u32::try_from(height.as_u64().unwrap_or(900).min(16_000)).unwrap();
                let whole = driver.session(width, h, &profile).await;
                whole.goto(url).await.unwrap();
                let png = whole.screenshot().await.unwrap();
                whole.close().await.unwrap();
                std::fs::create_dir_all(dir).unwrap();
                std::fs::write(dir.join(format!("{name}-{width}.png")), png).unwrap();
            }
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            readings.push(Reading {
                width,
                inner_width: number(inner) as u64,
                scroll_width: number(scroll) as u64,
                smallest_text: number(smallest),
                violations: violations.as_array().cloned().unwrap_or_default(),
            });
        }
        readings
    })
}

#[test]
fn the_report_reflows_and_axe_finds_nothing_at_every_width() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let out = tmp.path().join("report");
    spor(&data)
        .args(["demo", "--participants", "500", "--seed", "2007"])
        .assert()
        .success();
    spor(&data)
        .args(["report", "--year", "2007", "--out"])
        .arg(&out)
        .assert()
        .success();
    let url = format!("file://{}", out.join("report.html").display());
    let readings = read_page(&url, "report", tmp.path());
    assert_eq!(readings.len(), WIDTHS.len());
    for r in &readings {
        assert_eq!(r.inner_width, u64::from(r.width), "the viewport is {r:?}");
        assert!(
            r.scroll_width <= r.inner_width,
            "the page scrolls sideways at {} px: {} px wide",
            r.width,
            r.scroll_width
        );
        assert!(
            r.violations.is_empty(),
            "axe at {} px: {:#?}",
            r.width,
            r.violations
        );
        if r.width <= 375 {
            assert!(
                r.smallest_text >= 12.0,
                "text of {} px at {} px",
                r.smallest_text,
                r.width
            );
        }
    }
}
