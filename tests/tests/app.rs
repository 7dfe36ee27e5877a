//! The real desktop app, twice, against a real cloud: two people register, make cards, and swap
//! them through a QR code taken from one window's screenshot; the owner sees the scanner's card
//! arrive with no action; both wallets list each other; an import shows progress and a summary.
//! Every screen is captured at phone size (360×640) and desktop size into
//! `target/e2e-screenshots/`.
//!
//! Needs: the app built with `npx tauri build --debug --no-bundle` (scripts/test.sh does it),
//! `tauri-driver` and `WebKitWebDriver` on PATH, and a display (`xvfb-run`).

use std::net::TcpListener as StdListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use mingpian_cloud::config::{Config, RateLimits};
use serde_json::json;
use thirtyfour::prelude::*;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .canonicalize()
        .unwrap()
}

fn app_binary() -> PathBuf {
    let path = repo().join("target/debug/mingpian-app");
    assert!(
        path.exists(),
        "{} is missing: build the app first with `cd src-tauri && ../ui/node_modules/.bin/tauri build --debug --no-bundle` (scripts/test.sh does)",
        path.display()
    );
    path
}

fn free_port() -> u16 {
    StdListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// One app instance: its own tauri-driver, data and config dirs.
struct Instance {
    driver: WebDriver,
    process: Child,
    _home: tempfile::TempDir,
}

impl Instance {
    /// `lang`: the system language the app follows (`en_US.UTF-8`, `zh_CN.UTF-8`).
    async fn start(server: &str, lang: &str) -> Instance {
        let home = tempfile::tempdir().unwrap();
        let (port, native) = (free_port(), free_port());
        let process = Command::new("tauri-driver")
            .args([
                "--port",
                &port.to_string(),
                "--native-port",
                &native.to_string(),
            ])
            .env("XDG_DATA_HOME", home.path().join("data"))
            .env("XDG_CONFIG_HOME", home.path().join("config"))
            .env("XDG_CACHE_HOME", home.path().join("cache"))
            .env("MINGPIAN_SERVER", server)
            .env("LANG", lang)
            .env("LANGUAGE", lang.split('.').next().unwrap_or(lang))
            .spawn()
            .expect("tauri-driver on PATH (cargo install tauri-driver --locked)");
        let mut caps = Capabilities::new();
        caps.insert(
            "tauri:options".into(),
            json!({ "application": app_binary() }),
        );
        let url = format!("http://127.0.0.1:{port}");
        let started = Instant::now();
        let driver = loop {
            match WebDriver::new(&url, caps.clone()).await {
                Ok(d) => break d,
                Err(e) if started.elapsed() < Duration::from_secs(30) => {
                    let _ = e;
                    tokio::time::sleep(Duration::from_millis(300)).await;
                }
                Err(e) => panic!("the app did not start under tauri-driver: {e}"),
            }
        };
        Instance {
            driver,
            process,
            _home: home,
        }
    }

    async fn el(&self, css: &str) -> WebElement {
        self.driver
            .query(By::Css(css))
            .wait(Duration::from_secs(20), Duration::from_millis(200))
            .first()
            .await
            .unwrap_or_else(|e| panic!("no {css} on screen: {e}"))
    }

    async fn click(&self, css: &str) {
        let el = self.el(css).await;
        // Bring it above the fixed tab bar first, as a user scrolls before tapping.
        let _ = self
            .driver
            .execute(
                "arguments[0].scrollIntoView({block: 'center'});",
                vec![el.to_json().unwrap()],
            )
            .await;
        el.click()
            .await
            .unwrap_or_else(|e| panic!("click {css}: {e}"));
    }

    async fn fill(&self, css: &str, text: &str) {
        let el = self.el(css).await;
        el.clear().await.unwrap();
        el.send_keys(text)
            .await
            .unwrap_or_else(|e| panic!("type into {css}: {e}"));
    }

    /// Waits until `css` shows `text`.
    async fn wait_text(&self, css: &str, text: &str) -> String {
        let started = Instant::now();
        loop {
            if let Ok(el) = self.driver.find(By::Css(css)).await
                && let Ok(got) = el.text().await
                && got.contains(text)
            {
                return got;
            }
            assert!(
                started.elapsed() < Duration::from_secs(25),
                "{css} never showed {text:?}; page: {}",
                self.driver
                    .find(By::Css("body"))
                    .await
                    .unwrap()
                    .text()
                    .await
                    .unwrap_or_default()
            );
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    /// A screenshot of this window at both sizes, after the screen settles.
    async fn shots(&self, who: &str, screen: &str) {
        for (label, w, h) in [("phone-360x640", 360, 640), ("desktop-1024x768", 1024, 768)] {
            self.driver.set_window_rect(0, 0, w, h).await.unwrap();
            tokio::time::sleep(Duration::from_millis(1200)).await;
            let dir = repo().join("target/e2e-screenshots").join(label);
            std::fs::create_dir_all(&dir).unwrap();
            self.driver
                .screenshot(&dir.join(format!("{who}-{screen}.png")))
                .await
                .unwrap();
        }
        self.driver.set_window_rect(0, 0, 420, 780).await.unwrap();
        tokio::time::sleep(Duration::from_millis(400)).await;
    }

    async fn register(&self, name: &str, phone: &str, email: &str) {
        self.fill("#name", name).await;
        self.fill("#phone", phone).await;
        self.fill("#email", email).await;
        self.fill("#password", "correct horse battery").await;
        self.click("#submit").await;
    }

    async fn stop(mut self) {
        let _ = self.driver.quit().await;
        // SIGTERM, never SIGKILL: a killed driver leaves WebKitWebDriver holding its port.
        let _ = Command::new("kill")
            .arg(self.process.id().to_string())
            .status();
        let _ = self.process.wait();
    }
}

async fn cloud() -> (String, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let config = Config {
        data_dir: dir.path().to_path_buf(),
        rate_limit: RateLimits::OFF,
        ..Config::default()
    };
    let state = mingpian_cloud::AppState::new(config, addr).await.unwrap();
    tokio::spawn(async move {
        mingpian_cloud::serve(listener, state, std::future::pending())
            .await
            .unwrap();
    });
    (format!("http://{addr}"), dir)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_apps_swap_cards_through_a_qr_screenshot() {
    let (server, _cloud_dir) = cloud().await;
    // A's system speaks English, B's Chinese: both languages get exercised and photographed.
    let a = Instance::start(&server, "en_US.UTF-8").await;
    let b = Instance::start(&server, "zh_CN.UTF-8").await;

    // First run: register, then the first card from the template form.
    a.el("#name").await;
    a.shots("a", "1-welcome").await;
    a.register("张伟", "+86 138 0013 8000", "zhang.wei@example.cn")
        .await;
    a.fill("#card-title", "产品经理").await;
    a.fill("#card-org", "名片科技").await;
    a.shots("a", "2-first-card").await;
    a.click("#save-card").await;
    b.register("Anna Berg", "+49 151 2345 6789", "anna@example.com")
        .await;
    b.fill("#card-title", "Sales Director").await;
    b.fill("#card-org", "Acme GmbH").await;
    b.click("#save-card").await;

    // A's QR screen; the test takes the code from A's window.
    a.el("#my-qr svg").await;
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let shot = tempfile::Builder::new().suffix(".png").tempfile().unwrap();
    a.driver.screenshot(shot.path()).await.unwrap();
    let png = std::fs::read(shot.path()).unwrap();
    std::fs::create_dir_all(repo().join("target/e2e-screenshots")).unwrap();
    std::fs::write(
        repo().join("target/e2e-screenshots/a-qr-taken-by-the-test.png"),
        &png,
    )
    .unwrap();
    let found = mingpian_card::qr::image::decode(&png).unwrap();
    assert!(
        found.iter().any(|t| t.contains("/c/") && t.contains("?t=")),
        "A's window shows a live card code: {found:?}"
    );

    // B scans the screenshot from an image.
    b.click("#tab-scan").await;
    b.el("#scan-image")
        .await
        .send_keys(shot.path().display().to_string())
        .await
        .unwrap();
    b.wait_text("#scan-result", "张伟").await;
    b.shots("b", "3-scan-result").await;

    // A's QR screen shows B's card arriving, with no action from A.
    let banner = a.wait_text("#incoming", "Anna Berg").await;
    assert!(banner.contains("sent you their card"), "{banner}");
    a.shots("a", "4-code-incoming").await;

    // Both wallets list each other.
    a.click("#tab-wallet").await;
    a.wait_text("main", "Anna Berg").await;
    a.shots("a", "5-wallet").await;
    b.click("#tab-wallet").await;
    b.wait_text("main", "张伟").await;
    b.click(".contact").await;
    b.wait_text("main", "名片科技").await;
    b.shots("b", "6-contact").await;
    b.click("button.back").await;

    // Import from the real-world files: progress, then a summary.
    b.click("#open-import").await;
    let file = repo()
        .join("../shared/testdata/vcard/ez-vcard/outlook-2007.vcf")
        .canonicalize()
        .unwrap();
    b.el("#import-files")
        .await
        .send_keys(file.display().to_string())
        .await
        .unwrap();
    let summary = b.wait_text("#import-summary", "1").await;
    assert!(
        summary.contains("新增 1"),
        "one new contact, reported in B's language: {summary}"
    );
    b.el("#import-progress progress").await;
    b.shots("b", "7-import").await;
    b.click("button.back").await;
    b.wait_text("main", "Angstadt").await;

    // A paper card: B photographs one (here: a real photo from the test data). The device finds
    // the card's four corners and draws the frame over the photo; B drags a corner, the device
    // reads the card inside the frame, B checks the fields and saves it.
    b.click("#tab-scan").await;
    b.click("#paper-start").await;
    let paper = repo()
        .join("../shared/testdata/bizcard/azure-samples/business-card-english.jpg")
        .canonicalize()
        .unwrap();
    b.el("#paper-file")
        .await
        .send_keys(paper.display().to_string())
        .await
        .unwrap();
    let quad = b.el("#paper-quad").await;
    let corners = |points: String| -> Vec<[f32; 2]> {
        points
            .split_whitespace()
            .map(|p| {
                let (x, y) = p.split_once(',').unwrap();
                [x.parse().unwrap(), y.parse().unwrap()]
            })
            .collect()
    };
    let found = corners(quad.attr("points").await.unwrap().unwrap());
    // The card's corners in the 4032 × 3024 photo, set by eye: the frame starts on them.
    let by_eye = [
        [180.0, 1050.0],
        [2840.0, 460.0],
        [3855.0, 1560.0],
        [500.0, 2835.0],
    ];
    for (f, e) in found.iter().zip(by_eye) {
        assert!(
            (f[0] - e[0]).hypot(f[1] - e[1]) < 60.0,
            "frame corner {f:?} is on the card's corner {e:?}"
        );
    }
    b.shots("b", "8-paper-frame").await;
    // Drag the top-left corner 16 px out onto the table (on screen): the frame follows the
    // pointer. (An explicit press–move–release: WebKitWebDriver's one-step drag-and-drop sends no
    // button-up, which no real finger or mouse does.)
    let top_left = b.el("#paper circle.corner").await;
    b.driver
        .execute(
            "arguments[0].scrollIntoView({block: 'center'});",
            vec![top_left.to_json().unwrap()],
        )
        .await
        .unwrap();
    b.driver
        .action_chain()
        .move_to_element_center(&top_left)
        .click_and_hold()
        .move_by_offset(-8, -8)
        .move_by_offset(-8, -8)
        .release()
        .perform()
        .await
        .unwrap();
    let dragged = corners(quad.attr("points").await.unwrap().unwrap());
    assert!(
        dragged[0][0] < found[0][0] - 40.0 && dragged[0][1] < found[0][1] - 40.0,
        "the dragged corner moved: {:?} → {:?}",
        found[0],
        dragged[0]
    );
    assert_eq!(dragged[2], found[2], "the other corners stayed");
    b.click("#paper-read").await;
    // "Read on this device; check the fields before saving."
    b.wait_text("main", "请核对后保存").await;
    let name = b
        .el("#paper-result input")
        .await
        .value()
        .await
        .unwrap()
        .unwrap_or_default();
    assert_eq!(
        name, "Avery Smith",
        "the name read from the photo fills the form"
    );
    b.shots("b", "9-paper-card").await;
    b.click("#paper-save").await;
    b.wait_text("main", "Contoso").await;

    // The other screens, for the record.
    a.click("#tab-settings").await;
    a.wait_text("main", "张伟").await;
    a.shots("a", "10-settings").await;
    a.click("#tab-code").await;
    a.click("#manage-sets").await;
    a.shots("a", "11-card-sets").await;

    a.stop().await;
    b.stop().await;
}
