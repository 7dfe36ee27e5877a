//! The real desktop app, twice, against a real cloud, driven by clicking as people do:
//! - two people register (two short steps) and make their cards;
//! - B scans A's code with the camera (the named `FakeCamera`, fed the text decoded from A's
//!   window screenshot), sees whose card it is and exchanges; A's code screen turns into the
//!   exchange moment with no action; both wallets show each other, numbers in the local format;
//! - A's code full screen fills the width at 360×640 and still scans;
//! - a denied camera explains itself and offers the settings;
//! - a card link opens the running app: a second start with `mingpian://…` hands it over and
//!   quits, and the first exchanges;
//! - import and export through the file-dialog test seam (`FakeFileDialog`), the exported file
//!   read back; a paper card read from a real photo inside the four-corner frame;
//! - every screen photographed at 360×640 (zh and en) and 1280×800 into
//!   `target/e2e-screenshots/`, and checked with axe-core inside the app's web view: no serious
//!   or critical violation.
//!
//! Needs: the app built with `tauri build --debug --no-bundle` and kept by `scripts/e2e-app.sh`
//! (scripts/test.sh does both),
//! `tauri-driver`, `WebKitWebDriver` and `dbus-daemon` on PATH, and a display (`xvfb-run`).

use std::io::{BufRead as _, BufReader};
use std::net::TcpListener as StdListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use mingpian_testkit::{Backend, TestCloud, testdata};
use serde_json::{Value, json};
use thirtyfour::prelude::*;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .canonicalize()
        .expect("the repository")
}

/// The app as `tauri build --debug --no-bundle` builds it (the UI embedded), kept apart by
/// `scripts/e2e-app.sh`: a plain cargo build of the same binary loads a dev server instead.
fn app_binary() -> PathBuf {
    let path = repo().join("target/e2e-app/mingpian-app");
    assert!(
        path.exists(),
        "{} is missing: build the app first with `(cd src-tauri && ../ui/node_modules/.bin/tauri build --debug --no-bundle) && bash scripts/e2e-app.sh` (scripts/test.sh does)",
        path.display()
    );
    path
}

fn free_port() -> u16 {
    StdListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

fn shots_dir(size: &str) -> PathBuf {
    let dir = repo().join("target/e2e-screenshots").join(size);
    std::fs::create_dir_all(&dir).expect("screenshot dir");
    dir
}

/// A session bus of its own: the app allows one running instance per bus (single-instance), so
/// two people on one machine need two.
struct SessionBus {
    process: Child,
    address: String,
}

impl SessionBus {
    fn start() -> SessionBus {
        let mut process = Command::new("dbus-daemon")
            .args(["--session", "--nofork", "--nopidfile", "--print-address=1"])
            .stdout(Stdio::piped())
            .spawn()
            .expect("dbus-daemon on PATH (Debian package dbus)");
        let mut line = String::new();
        BufReader::new(process.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("dbus-daemon prints its address");
        SessionBus {
            process,
            address: line.trim().to_owned(),
        }
    }
}

impl Drop for SessionBus {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

/// One person's app: its own tauri-driver, data, config, session bus and file-dialog answers.
struct Instance {
    who: &'static str,
    driver: WebDriver,
    process: Child,
    env: Vec<(String, String)>,
    home: tempfile::TempDir,
    _bus: SessionBus,
}

impl Instance {
    /// `lang`: the system language the app follows (`en_US.UTF-8`, `zh_CN.UTF-8`).
    async fn start(who: &'static str, server: &str, lang: &str) -> Instance {
        let home = tempfile::tempdir().expect("home");
        let bus = SessionBus::start();
        let (port, native) = (free_port(), free_port());
        let dir = |d: &str| home.path().join(d).display().to_string();
        let env: Vec<(String, String)> = [
            ("XDG_DATA_HOME", dir("data")),
            ("XDG_CONFIG_HOME", dir("config")),
            ("XDG_CACHE_HOME", dir("cache")),
            ("MINGPIAN_SERVER", server.to_owned()),
            ("LANG", lang.to_owned()),
            (
                "LANGUAGE",
                lang.split('.').next().unwrap_or(lang).to_owned(),
            ),
            ("DBUS_SESSION_BUS_ADDRESS", bus.address.clone()),
            // GTK picks the X input method for zh/ja/ko locales, and Xvfb runs no input-method
            // server: typed capitals would arrive lower-case. GTK's own simple input method is
            // what a desktop without an IME uses.
            ("GTK_IM_MODULE", "gtk-im-context-simple".to_owned()),
            // The named test seams of a debug build: the camera and the native file dialog.
            ("MINGPIAN_FAKE_CAMERA", "1".to_owned()),
            ("MINGPIAN_FAKE_FILE_DIALOG", dir("dialog.json")),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        let process = Command::new("tauri-driver")
            .args([
                "--port",
                &port.to_string(),
                "--native-port",
                &native.to_string(),
            ])
            .envs(env.iter().map(|(k, v)| (k, v)))
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
                Err(_) if started.elapsed() < Duration::from_secs(30) => {
                    tokio::time::sleep(Duration::from_millis(300)).await;
                }
                Err(e) => panic!("the app did not start under tauri-driver: {e}"),
            }
        };
        driver
            .set_window_rect(0, 0, 420, 780)
            .await
            .expect("window size");
        let instance = Instance {
            who,
            driver,
            process,
            env,
            home,
            _bus: bus,
        };
        // A first resize of a window just mapped can be painted late: do one before any shot.
        instance.resize(360, 640).await;
        instance.resize(420, 780).await;
        instance
    }

    async fn el(&self, css: &str) -> WebElement {
        match self
            .driver
            .query(By::Css(css))
            .wait(Duration::from_secs(25), Duration::from_millis(200))
            .first()
            .await
        {
            Ok(el) => el,
            Err(e) => {
                let page = self.failure_evidence(css).await;
                panic!(
                    "{}: no {css} on screen: {e}\nthe screen showed: {page}",
                    self.who
                )
            }
        }
    }

    /// On a failed wait: a screenshot in `target/e2e-screenshots/failures/` and the page's text.
    async fn failure_evidence(&self, what: &str) -> String {
        let name: String = what
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .collect();
        let _ = self
            .driver
            .screenshot(&shots_dir("failures").join(format!("{}-{name}.png", self.who)))
            .await;
        match self
            .driver
            .execute(
                "return document.body ? document.body.innerText : '(no body)'",
                vec![],
            )
            .await
        {
            Ok(r) => r.json().to_string(),
            Err(e) => format!("(the page could not be read: {e})"),
        }
    }

    async fn click(&self, css: &str) {
        let el = self.el(css).await;
        // Into view first (above the tab bar), as a user scrolls before tapping.
        let _ = self
            .driver
            .execute(
                "arguments[0].scrollIntoView({block: 'center'});",
                vec![el.to_json().expect("json")],
            )
            .await;
        el.click()
            .await
            .unwrap_or_else(|e| panic!("{}: click {css}: {e}", self.who));
    }

    async fn fill(&self, css: &str, text: &str) {
        let el = self.el(css).await;
        el.clear().await.expect("clear");
        el.send_keys(text)
            .await
            .unwrap_or_else(|e| panic!("type into {css}: {e}"));
    }

    async fn js(&self, script: &str, args: Vec<Value>) -> Value {
        self.driver
            .execute(script, args)
            .await
            .unwrap_or_else(|e| panic!("{}: script failed: {e}\n{script}", self.who))
            .json()
            .clone()
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
            if started.elapsed() > Duration::from_secs(25) {
                let page = self.js("return document.body.innerText", vec![]).await;
                panic!("{}: {css} never showed {text:?}; page: {page}", self.who);
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    /// The file-dialog seam's next answers (`{"open": [...]}` or `{"save": "..."}`).
    fn dialog_answers(&self, answers: Value) {
        std::fs::write(self.home.path().join("dialog.json"), answers.to_string())
            .expect("dialog answers");
    }

    /// A screenshot at phone size (360×640) and desktop size (1280×800), each checked with
    /// axe-core: no serious or critical accessibility violation.
    async fn shots(&self, screen: &str) {
        self.shots_of(screen, None).await;
    }

    /// As [`Self::shots`], with `css` scrolled into view at each size.
    async fn shots_of(&self, screen: &str, css: Option<&str>) {
        for (label, w, h) in [("phone-360x640", 360, 640), ("desktop-1280x800", 1280, 800)] {
            self.resize(w, h).await;
            if let Some(css) = css {
                self.js(
                    "document.querySelector(arguments[0]).scrollIntoView({block: 'start'})",
                    vec![json!(css)],
                )
                .await;
            }
            self.driver
                .screenshot(&shots_dir(label).join(format!("{}-{screen}.png", self.who)))
                .await
                .expect("screenshot");
            self.axe(&format!("{screen} at {label}")).await;
        }
        self.resize(420, 780).await;
    }

    /// Resizes the window and waits until the page has laid out at the new size.
    async fn resize(&self, w: u32, h: u32) {
        self.driver
            .set_window_rect(0, 0, w, h)
            .await
            .expect("resize");
        let started = Instant::now();
        while self.js("return window.innerWidth", vec![]).await != json!(w)
            && started.elapsed() < Duration::from_secs(5)
        {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        // Two frames painted at the new size.
        let _ = self
            .driver
            .execute_async(
                "const done = arguments[arguments.length - 1]; requestAnimationFrame(() => requestAnimationFrame(() => done(true)));",
                vec![],
            )
            .await;
        tokio::time::sleep(Duration::from_millis(500)).await;
    }

    /// axe-core (WCAG 2.1 A/AA and best practice) run inside the app's web view.
    async fn axe(&self, screen: &str) {
        let loaded = self
            .js("return typeof window.axe === 'object'", vec![])
            .await;
        if loaded != json!(true) {
            let source =
                std::fs::read_to_string(repo().join("ui/node_modules/axe-core/axe.min.js"))
                    .expect("axe-core in ui/node_modules (npm ci)");
            self.js(&format!("{source}\nreturn true;"), vec![]).await;
        }
        let result = self
            .driver
            .execute_async(
                "const done = arguments[arguments.length - 1];
                 axe.run(document, { runOnly: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'],
                                     rules: { 'region': { enabled: false } } })
                   .then(r => done(r.violations
                       .filter(v => v.impact === 'serious' || v.impact === 'critical')
                       .map(v => ({ id: v.id, impact: v.impact, help: v.help,
                                    nodes: v.nodes.slice(0, 3).map(n => n.target.join(' ') + ' :: ' + n.failureSummary) }))))
                   .catch(e => done([{ id: 'axe-error', help: String(e) }]));",
                vec![],
            )
            .await
            .expect("axe ran");
        let violations = result.json().as_array().cloned().unwrap_or_default();
        assert!(
            violations.is_empty(),
            "{}: accessibility violations on {screen}: {}",
            self.who,
            serde_json::to_string_pretty(&violations).unwrap_or_default()
        );
    }

    /// The card code on screen, read from a screenshot of the window as another phone's camera
    /// would read it.
    async fn code_on_screen(&self, name: &str) -> String {
        tokio::time::sleep(Duration::from_millis(800)).await;
        let png = self.driver.screenshot_as_png().await.expect("screenshot");
        std::fs::write(repo().join("target/e2e-screenshots").join(name), &png).expect("save shot");
        let found = mingpian_card::qr::image::decode(&png).expect("decode the screenshot");
        found
            .into_iter()
            .find(|t| t.contains("/c/"))
            .unwrap_or_else(|| panic!("{}: no card code in the window", self.who))
    }

    async fn register(&self, name: &str, phone: &str, title: &str, org: &str, email: &str) {
        self.fill("#name", name).await;
        self.fill("#phone", phone).await;
        self.fill("#password", "correct horse battery").await;
        self.click("#submit").await;
        // Step 2: the card, filled in from the account.
        let prefilled = self
            .el("#card-name")
            .await
            .value()
            .await
            .expect("value")
            .unwrap_or_default();
        assert_eq!(prefilled, name, "the first card starts from the account");
        self.fill("#card-title", title).await;
        self.fill("#card-org", org).await;
        self.fill("#card-email", email).await;
    }

    /// Starts the app again with `arg`, as a browser or chat does for a `mingpian://` link: a
    /// second instance that hands the link to the running one and quits.
    fn second_start(&self, arg: &str) {
        let mut child = Command::new(app_binary())
            .arg(arg)
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .spawn()
            .expect("start the app a second time");
        let started = Instant::now();
        loop {
            if let Some(status) = child.try_wait().expect("wait") {
                assert!(status.success(), "the second instance quit with {status}");
                return;
            }
            if started.elapsed() > Duration::from_secs(30) {
                let _ = child.kill();
                panic!("the second instance did not hand over its link and quit");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    async fn stop(mut self) {
        let _ = self.driver.clone().quit().await;
        // SIGTERM, never SIGKILL: a killed driver leaves WebKitWebDriver holding its port.
        let _ = Command::new("kill")
            .arg(self.process.id().to_string())
            .status();
        let _ = self.process.wait();
    }
}

/// The corners of the frame polygon (`points="x,y x,y …"`).
fn corners(points: &str) -> Vec<[f32; 2]> {
    points
        .split_whitespace()
        .filter_map(|p| {
            let (x, y) = p.split_once(',')?;
            Some([x.parse().ok()?, y.parse().ok()?])
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_people_swap_cards_on_their_phones() {
    let cloud = TestCloud::start(Backend::Sqlite, |_| {})
        .await
        .expect("a cloud");
    // A's system speaks English, B's Chinese: both languages are exercised and photographed.
    let a = Instance::start("a", &cloud.base, "en_US.UTF-8").await;
    let b = Instance::start("b", &cloud.base, "zh_CN.UTF-8").await;

    // First run: the account, then the card filled in from it.
    a.el("#name").await;
    a.shots("01-welcome").await;
    b.el("#name").await;
    b.shots("01-welcome").await;
    a.register(
        "张伟",
        "+86 138 0013 8000",
        "产品经理",
        "名片科技",
        "zhang.wei@example.cn",
    )
    .await;
    a.shots("02-first-card").await;
    a.click("#save-card").await;
    b.register(
        "Anna Berg",
        "+49 151 2345 6789",
        "Sales Director",
        "Acme GmbH",
        "anna@example.com",
    )
    .await;
    b.shots("02-first-card").await;
    b.click("#save-card").await;

    // A's code, with A's name above it; the test reads it from A's window.
    a.el("#my-qr svg").await;
    a.wait_text("main", "张伟").await;
    a.shots("03-my-code").await;
    let a_code = a.code_on_screen("a-code-taken-by-the-test.png").await;
    assert!(a_code.contains("?t="), "A shows a live card code: {a_code}");

    // B scans it with the camera: the fake camera "sees" the text read from A's window.
    b.click("#tab-scan").await;
    b.shots("04-scan").await;
    b.click("#scan-camera").await;
    b.el("#scanner").await;
    b.shots("05-scanner").await;
    b.js(
        "window.__mingpianFakeCamera.codes.push(arguments[0]);",
        vec![json!(a_code)],
    )
    .await;
    // Whose card this is comes first: A's name, company and cloud.
    let whose = b.wait_text("#whose-card", "张伟").await;
    assert!(
        whose.contains("名片科技") && whose.contains("127.0.0.1"),
        "{whose}"
    );
    b.shots("06-whose-card").await;
    b.click("#whose-exchange").await;
    let done = b.wait_text("#exchange-done", "已与 张伟 交换名片").await;
    assert!(
        done.contains("你的名片已发送给对方"),
        "B is told their card went to A: {done}"
    );
    b.shots("07-exchange-done").await;

    // A's code screen turns into the moment, with no action from A.
    let moment = a
        .wait_text("#exchange-moment", "Cards exchanged with Anna Berg")
        .await;
    assert!(moment.contains("Acme GmbH"), "{moment}");
    assert_eq!(
        a.el("#wallet-badge").await.text().await.expect("badge"),
        "1"
    );
    a.shots("08-exchange-moment").await;
    a.click("#moment-done").await;

    // Both wallets list each other; a number from home in the national format, from abroad in
    // the international one.
    b.click("#done-finish").await;
    b.click("#tab-wallet").await;
    b.wait_text("#wallet-new", "张伟").await;
    b.shots("09-wallet").await;
    b.click("#wallet-new .contact").await;
    let phone = b.wait_text("#contact-phone", "138").await;
    assert!(
        phone.contains("138 0013 8000"),
        "a Chinese number in China, national: {phone}"
    );
    b.shots("10-contact").await;
    b.click("#back").await;
    a.click("#tab-wallet").await;
    a.wait_text("#wallet-new", "Anna Berg").await;
    a.shots("09-wallet").await;
    a.click("#wallet-new .contact").await;
    let phone = a.wait_text("#contact-phone", "+49").await;
    assert!(
        phone.contains("+49 1512 3456789"),
        "a German number seen from China, international: {phone}"
    );
    a.shots("10-contact").await;
    a.click("#back").await;

    // A's code full screen: it fills the width of a 360×640 phone and still scans.
    a.click("#tab-code").await;
    a.el("#my-qr svg").await;
    a.click("#full-screen").await;
    a.el("#full-code svg").await;
    a.resize(360, 640).await;
    let fill = a
        .js("const r = document.querySelector('#full-code svg').getBoundingClientRect(); return r.width / window.innerWidth;", vec![])
        .await;
    assert!(
        fill.as_f64().unwrap_or(0.0) >= 0.9,
        "the full-screen code fills the width: {fill}"
    );
    let full_code = a
        .code_on_screen("phone-360x640/a-11-full-screen-code.png")
        .await;
    assert!(full_code.contains("?t="), "{full_code}");
    a.shots("11-full-screen-code").await;
    a.click("#full-code").await;

    // A denied camera: what happened, and the way to the settings.
    b.js(
        "window.__mingpianFakeCamera = { permission: 'denied', codes: [] };",
        vec![],
    )
    .await;
    b.click("#tab-scan").await;
    b.click("#scan-camera").await;
    b.wait_text("#camera-denied", "相机").await;
    b.shots("12-camera-denied").await;
    b.click("#open-settings").await;
    assert_eq!(
        b.js(
            "return window.__mingpianFakeCamera.openedSettings === true",
            vec![]
        )
        .await,
        json!(true)
    );
    b.click("#scanner-close").await;
    b.js("window.__mingpianFakeCamera = { codes: [] };", vec![])
        .await;

    // A card link opens the running app: B's code as a `mingpian://` link, started a second
    // time; the first instance shows whose card it is and exchanges.
    b.click("#tab-code").await;
    b.el("#my-qr svg").await;
    let b_code = b.code_on_screen("b-code-taken-by-the-test.png").await;
    let link = format!(
        "mingpian://open?u={}",
        url::form_urlencoded::byte_serialize(b_code.as_bytes()).collect::<String>()
    );
    a.second_start(&link);
    a.wait_text("#whose-card", "Anna Berg").await;
    a.click("#whose-exchange").await;
    a.wait_text("#exchange-done", "Cards exchanged with Anna Berg")
        .await;
    a.click("#done-finish").await;

    // Import through the file dialog (its test seam answers): progress, then a summary.
    b.click("#tab-wallet").await;
    b.click("#open-import").await;
    let outlook = testdata("vcard/ez-vcard/outlook-2007.vcf")
        .canonicalize()
        .expect("test data");
    b.dialog_answers(json!({ "open": [outlook] }));
    b.click("#import-files").await;
    let summary = b.wait_text("#import-summary", "新增 1").await;
    assert!(summary.contains("导入完成"), "{summary}");
    b.shots("13-import").await;

    // Export through the save dialog: the file is there and reads back.
    let out = b.home.path().join("exported.vcf");
    b.dialog_answers(json!({ "save": out }));
    b.click("#export-save").await;
    b.wait_text("#export-done", "exported.vcf").await;
    let exported = mingpian_card::vcard::read(&std::fs::read(&out).expect("the exported file"));
    let names: Vec<String> = exported.cards.iter().map(|c| c.display_name()).collect();
    assert!(exported.errors.is_empty(), "{:?}", exported.errors);
    assert!(
        names.iter().any(|n| n == "张伟") && names.len() >= 2,
        "{names:?}"
    );

    // A paper card: a real photo picked through the dialog; the device finds the card's four
    // corners, B drags one, the device reads the card inside the frame, B checks and saves.
    b.click("#back").await;
    b.click("#tab-scan").await;
    b.click("#paper-start").await;
    b.shots("14-paper-start").await;
    let photo = testdata("bizcard/azure-samples/business-card-english.jpg")
        .canonicalize()
        .expect("photo");
    b.dialog_answers(json!({ "open": [photo] }));
    b.click("#paper-choose").await;
    let quad = b.el("#paper-quad").await;
    let found = corners(
        &quad
            .attr("points")
            .await
            .expect("points")
            .unwrap_or_default(),
    );
    // The card's corners in the 4032 × 3024 photo, set by eye: the frame starts on them.
    let by_eye = [
        [180.0, 1050.0],
        [2840.0, 460.0],
        [3855.0, 1560.0],
        [500.0, 2835.0],
    ];
    assert_eq!(found.len(), 4, "{found:?}");
    for (f, e) in found.iter().zip(by_eye) {
        assert!(
            (f[0] - e[0]).hypot(f[1] - e[1]) < 60.0,
            "frame corner {f:?} is on the card's corner {e:?}"
        );
    }
    b.shots("15-paper-frame").await;
    // Drag the top-left corner 16 px out onto the table (an explicit press–move–release:
    // WebKitWebDriver's one-step drag sends no button-up).
    let top_left = b.el("#paper circle.corner").await;
    b.driver
        .action_chain()
        .move_to_element_center(&top_left)
        .click_and_hold()
        .move_by_offset(-8, -8)
        .move_by_offset(-8, -8)
        .release()
        .perform()
        .await
        .expect("drag");
    let dragged = corners(
        &quad
            .attr("points")
            .await
            .expect("points")
            .unwrap_or_default(),
    );
    assert!(
        dragged[0][0] < found[0][0] - 40.0 && dragged[0][1] < found[0][1] - 40.0,
        "the dragged corner moved: {:?} → {:?}",
        found[0],
        dragged[0]
    );
    assert_eq!(dragged[2], found[2], "the other corners stayed");
    b.click("#paper-read").await;
    b.wait_text("#paper", "请逐项核对").await;
    let name = b
        .el("#paper-field-name")
        .await
        .value()
        .await
        .expect("value")
        .unwrap_or_default();
    assert_eq!(
        name, "Avery Smith",
        "the name read from the photo fills the form"
    );
    let mobile = b
        .el("#paper-field-mobile")
        .await
        .value()
        .await
        .expect("value")
        .unwrap_or_default();
    assert!(
        !mobile.trim().is_empty(),
        "the number read is there to check and edit"
    );
    b.shots("16-paper-review").await;
    b.click("#paper-save").await;
    b.wait_text("main", "Contoso").await;
    b.click("#back").await;

    // The remaining screens, in both languages.
    for who in [&a, &b] {
        who.click("#tab-settings").await;
        who.el("#sync-now").await;
        who.shots("17-me").await;
        // The phone's address book: an app password made, shown once, with the server and
        // user name an account screen asks for.
        who.click("#dav-create").await;
        who.el("#dav-new-password").await;
        who.wait_text("#address-book", "iPhone").await;
        who.wait_text("#dav-url", "/dav/").await;
        who.shots_of("17-phone-contacts", Some("#address-book"))
            .await;
        who.click("#settings-io").await;
        who.el("#import-files").await;
        who.shots("18-import-export").await;
        who.click("#back").await;
        who.click("#tab-code").await;
        who.click("#code-more").await;
        who.shots("19-code-menu").await;
        who.click("#show-printed").await;
        who.el("#reset-code").await;
        who.shots("20-fixed-code").await;
        who.click("#reset-code").await;
        who.el("#confirm-yes").await;
        who.shots("21-reset-confirm").await;
        who.driver
            .action_chain()
            .send_keys(Key::Escape)
            .perform()
            .await
            .expect("escape");
        who.click("#code-more").await;
        who.click("#edit-card").await;
        who.el("#save-card").await;
        who.shots("22-edit-card").await;
    }

    a.stop().await;
    b.stop().await;
    cloud.stop().await;
}
