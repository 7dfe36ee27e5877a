//! The phone build cannot be compiled here (no Android SDK, no Xcode), so its wiring is checked
//! as text: every Tauri plugin the UI calls must be registered in `run()` — the phone-only ones
//! under `#[cfg(mobile)]` and depended on under the phone targets — and every plugin command the
//! UI calls must be allowed by a capability that applies on phones. A plugin the shell calls
//! from Rust needs registering (under the same cfg as its dependency) but no capability.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf()
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Every `.ts` and `.svelte` file under `dir` (generated bindings included).
fn ui_sources(dir: &Path, out: &mut Vec<String>) {
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.expect("dir entry").path();
        if path.is_dir() {
            ui_sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "ts" || e == "svelte") {
            out.push(read(&path));
        }
    }
}

/// `camelCase` → `kebab-case`, as Tauri names command permissions (`allow-check-permissions`).
fn kebab(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        if c.is_ascii_uppercase() {
            out.push('-');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// What the UI uses of each plugin: `(plugin, functions imported)`.
fn ui_plugin_calls(sources: &[String]) -> Vec<(String, BTreeSet<String>)> {
    let mut calls: Vec<(String, BTreeSet<String>)> = Vec::new();
    for text in sources {
        let mut rest = text.as_str();
        while let Some(at) = rest.find("from \"@tauri-apps/plugin-") {
            let after = &rest[at + "from \"@tauri-apps/plugin-".len()..];
            let plugin: String = after.chars().take_while(|c| *c != '"').collect();
            // The import list before `from`: `import { a, b as c, type T } from "…"`.
            let head = &rest[..at];
            let names = head
                .rfind('{')
                .map(|open| &head[open + 1..])
                .and_then(|list| list.rfind('}').map(|close| &list[..close]))
                .unwrap_or_default();
            let functions: BTreeSet<String> = names
                .split(',')
                .map(|n| n.trim())
                .filter(|n| !n.starts_with("type "))
                .filter_map(|n| n.split_whitespace().next())
                .filter(|n| n.chars().next().is_some_and(|c| c.is_ascii_lowercase()))
                .map(str::to_owned)
                .collect();
            match calls.iter_mut().find(|(p, _)| *p == plugin) {
                Some((_, f)) => f.extend(functions),
                None => calls.push((plugin, functions)),
            }
            rest = &after[1..];
        }
    }
    calls
}

/// The statements of `run()` that register plugins: `(crate, only on phones)`.
fn registrations(lib_rs: &str) -> Vec<(String, bool)> {
    let start = lib_rs.find("pub fn run()").expect("run() in lib.rs");
    let body = &lib_rs[start..];
    let mut out = Vec::new();
    for statement in body.split(';') {
        let mobile = statement.trim_start().starts_with("#[cfg(mobile)]")
            || statement.lines().any(|l| l.trim() == "#[cfg(mobile)]");
        let mut rest = statement;
        while let Some(at) = rest.find(".plugin(tauri_plugin_") {
            let after = &rest[at + ".plugin(".len()..];
            let name: String = after
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            out.push((name.replace('_', "-"), mobile));
            rest = after;
        }
    }
    out
}

/// The permissions granted on phones: every capability without a `platforms` list, and those
/// listing android and iOS.
fn phone_permissions(capabilities: &[serde_json::Value]) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for cap in capabilities {
        let on_phones = match cap.get("platforms").and_then(|p| p.as_array()) {
            None => true,
            Some(list) => ["android", "iOS"]
                .iter()
                .all(|p| list.iter().any(|x| x == p)),
        };
        if !on_phones {
            continue;
        }
        for p in cap["permissions"].as_array().into_iter().flatten() {
            let id = p
                .as_str()
                .or_else(|| p.get("identifier").and_then(|i| i.as_str()));
            if let Some(id) = id {
                out.insert(id.to_owned());
            }
        }
    }
    out
}

/// The crates `Cargo.toml` depends on only under the phone targets.
fn phone_only_crates(cargo_toml: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut in_phone_section = false;
    for line in cargo_toml.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            in_phone_section = line.contains("target_os = \"android\"")
                && line.contains("target_os = \"ios\"")
                && !line.contains("not(");
            continue;
        }
        if in_phone_section && let Some((name, _)) = line.split_once('=') {
            out.insert(name.trim().to_owned());
        }
    }
    out
}

/// Everything wrong with the wiring; empty when it is right.
fn problems(
    sources: &[String],
    lib_rs: &str,
    shell_sources: &str,
    cargo_toml: &str,
    capabilities: &[serde_json::Value],
) -> Vec<String> {
    let mut problems = Vec::new();
    let registered = registrations(lib_rs);
    let granted = phone_permissions(capabilities);
    let phone_only = phone_only_crates(cargo_toml);
    let is_registered = |plugin: &str| {
        registered
            .iter()
            .find(|(n, _)| n == &format!("tauri-plugin-{plugin}"))
    };

    for (plugin, functions) in ui_plugin_calls(sources) {
        let krate = format!("tauri-plugin-{plugin}");
        match is_registered(&plugin) {
            None => problems.push(format!(
                "the UI calls {plugin} but run() never registers {krate}"
            )),
            Some((_, mobile)) => {
                if phone_only.contains(&krate) && !mobile {
                    problems.push(format!("{krate} is a phone-only dependency but is registered outside #[cfg(mobile)]"));
                }
            }
        }
        for function in functions {
            let wanted = format!("{plugin}:allow-{}", kebab(&function));
            if !granted.contains(&wanted) && !granted.contains(&format!("{plugin}:default")) {
                problems.push(format!(
                    "the UI calls {plugin}'s {function}() but no phone capability grants {wanted}"
                ));
            }
        }
    }
    // Plugins the shell calls from Rust (`tauri_plugin_x::…`): registered, with the same cfg
    // as their dependency.
    let mut rest = shell_sources;
    let mut used = BTreeSet::new();
    while let Some(at) = rest.find("tauri_plugin_") {
        let after = &rest[at..];
        let name: String = after
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        used.insert(name.replace('_', "-"));
        rest = &after[name.len()..];
    }
    for krate in used {
        match registered.iter().find(|(n, _)| *n == krate) {
            None => problems.push(format!(
                "the shell uses {krate} but run() never registers it"
            )),
            Some((_, mobile)) if phone_only.contains(&krate) && !mobile => problems.push(format!(
                "{krate} is a phone-only dependency but is registered outside #[cfg(mobile)]"
            )),
            Some((_, true)) if !phone_only.contains(&krate) => problems.push(format!(
                "{krate} is registered on phones only but depended on everywhere"
            )),
            _ => {}
        }
    }
    problems
}

struct Wiring {
    sources: Vec<String>,
    lib_rs: String,
    shell: String,
    cargo_toml: String,
    capabilities: Vec<serde_json::Value>,
}

fn wiring() -> Wiring {
    let mut sources = Vec::new();
    ui_sources(&root().join("../ui/src"), &mut sources);
    let mut shell = String::new();
    for entry in std::fs::read_dir(root().join("src")).expect("src") {
        shell.push_str(&read(&entry.expect("entry").path()));
    }
    let capabilities = std::fs::read_dir(root().join("capabilities"))
        .expect("capabilities")
        .map(|e| serde_json::from_str(&read(&e.expect("entry").path())).expect("capability JSON"))
        .collect();
    Wiring {
        sources,
        lib_rs: read(&root().join("src/lib.rs")),
        shell,
        cargo_toml: read(&root().join("Cargo.toml")),
        capabilities,
    }
}

#[test]
fn every_plugin_the_phone_ui_calls_is_registered_and_allowed() {
    let w = wiring();
    let calls = ui_plugin_calls(&w.sources);
    assert!(
        calls
            .iter()
            .any(|(p, f)| p == "barcode-scanner" && f.contains("scan")),
        "the check sees the UI's camera calls: {calls:?}"
    );
    let found = problems(
        &w.sources,
        &w.lib_rs,
        &w.shell,
        &w.cargo_toml,
        &w.capabilities,
    );
    assert!(found.is_empty(), "mobile wiring:\n{}", found.join("\n"));
}

#[test]
fn the_check_catches_a_missing_registration_or_permission() {
    let w = wiring();
    // The camera's permission to scan gone from mobile.json.
    let mut caps = w.capabilities.clone();
    for cap in &mut caps {
        if let Some(list) = cap.get_mut("permissions").and_then(|p| p.as_array_mut()) {
            list.retain(|p| p != "barcode-scanner:allow-scan" && p != "barcode-scanner:default");
        }
    }
    let found = problems(&w.sources, &w.lib_rs, &w.shell, &w.cargo_toml, &caps);
    assert!(found.iter().any(|p| p.contains("allow-scan")), "{found:?}");
    // The scanner registered on every platform instead of phones only.
    let lib_rs = w.lib_rs.replace(
        "#[cfg(mobile)]\n    let builder = builder\n        .plugin(tauri_plugin_barcode_scanner::init())",
        "let builder = builder\n        .plugin(tauri_plugin_barcode_scanner::init())",
    );
    assert_ne!(
        lib_rs, w.lib_rs,
        "the test edits the registration it means to"
    );
    let found = problems(
        &w.sources,
        &lib_rs,
        &w.shell,
        &w.cargo_toml,
        &w.capabilities,
    );
    assert!(
        found
            .iter()
            .any(|p| p.contains("barcode-scanner") && p.contains("outside")),
        "{found:?}"
    );
    // Not registered at all.
    let lib_rs = w
        .lib_rs
        .replace(".plugin(tauri_plugin_barcode_scanner::init())", "");
    let found = problems(
        &w.sources,
        &lib_rs,
        &w.shell,
        &w.cargo_toml,
        &w.capabilities,
    );
    assert!(
        found
            .iter()
            .any(|p| p.contains("never registers tauri-plugin-barcode-scanner")),
        "{found:?}"
    );
}
