//! Configuration: defaults, then a TOML file, then `MINGPIAN_*` environment variables, then
//! command-line flags. `mingpian-cloud --print-default-config` prints the commented example below.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use serde::{Deserialize, Serialize};

pub const DEFAULT_CONFIG: &str = r#"# Mingpian cloud configuration. Every key is optional; shown with its default.
# Environment variables override this file: MINGPIAN_LISTEN, MINGPIAN_DATA_DIR,
# MINGPIAN_DATABASE_URL, MINGPIAN_PUBLIC_URL, MINGPIAN_DEFAULT_REGION, MINGPIAN_LIVE_CODE_SECONDS,
# MINGPIAN_REDIS_URL, MINGPIAN_TRUSTED_PROXIES (comma-separated).

# Address and port to listen on.
listen = "127.0.0.1:8787"

# Where the embedded SQLite database lives (when database_url is not set).
data_dir = "./mingpian-data"

# A postgres://user:pass@host/db URL selects PostgreSQL instead of the embedded SQLite file.
# database_url = "postgres://mingpian@localhost/mingpian"

# Database connections this instance keeps open (at least 2). On a 2-core machine 8 carried as
# many exchanges per second to PostgreSQL as 16 with a third lower p99, and 32 fewer; the
# database's max_connections must cover every instance's pool.
database_connections = 8

# The URL people reach this server at; QR codes and links are built from it.
# Defaults to http://{listen}.
# public_url = "https://mp.example.cn"

# Region assumed for phone numbers written without a country code (ISO 3166 code).
default_region = "CN"

# How long a live QR code (shown on the owner's phone) stays valid, in seconds.
live_code_seconds = 300

# Most card sets one account may have.
max_sets = 20

# A redis://host:port URL: rate limits are kept there and shared by every instance (behind a load
# balancer, N instances then enforce one limit, not N). Without it each instance counts alone.
# redis_url = "redis://127.0.0.1:6379"

# Reverse proxies (addresses or CIDR blocks) whose X-Forwarded-For / Forwarded headers name the
# client. Requests from anywhere else are limited by their own address and their headers ignored.
trusted_proxies = []

[quotas]
# Cards waiting in one account's inbox, and their size in bytes (avatars and card images
# included). Repeat exchanges from the same card replace their item, so only many different
# senders fill it; past the cap, new senders' cards are not delivered until the owner deletes some.
inbox_items = 5000
inbox_bytes = 268435456
# Of those, unverified cards sent from the web page.
inbox_web_items = 200
# Bytes of wallet backup (sync records) one account may keep.
backup_bytes = 1073741824

[rate_limit]
# Requests per minute per client IP on the API; 0 turns the limit off.
api_per_ip = 1200
# Authenticated requests per minute per account, across its devices.
api_per_account = 600
# Log-in and registration attempts per minute per client IP.
auth_per_ip = 20
# Cards sent from the web page per minute per client IP.
web_reply_per_ip = 5
# Web card pages (/c/…) per minute per client IP.
web_card_per_ip = 120

[deep_links]
# Android App Links: the app's package and its signing certificate's SHA-256 fingerprints.
android_package = "cn.mingpian.card"
android_sha256_fingerprints = []
# iOS Universal Links: "{TEAMID}.{bundle id}".
apple_app_ids = []
"#;

#[derive(Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub listen: String,
    pub data_dir: PathBuf,
    pub database_url: Option<String>,
    pub database_connections: u32,
    pub public_url: Option<String>,
    pub default_region: String,
    pub live_code_seconds: u64,
    pub max_sets: u32,
    pub redis_url: Option<String>,
    pub trusted_proxies: Vec<String>,
    pub quotas: Quotas,
    pub rate_limit: RateLimits,
    pub deep_links: DeepLinks,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Quotas {
    pub inbox_items: i64,
    pub inbox_bytes: i64,
    pub inbox_web_items: i64,
    pub backup_bytes: i64,
}

impl Default for Quotas {
    fn default() -> Self {
        Quotas {
            inbox_items: 5000,
            inbox_bytes: 256 * 1024 * 1024,
            inbox_web_items: 200,
            backup_bytes: 1024 * 1024 * 1024,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RateLimits {
    pub api_per_ip: u32,
    pub api_per_account: u32,
    pub auth_per_ip: u32,
    pub web_reply_per_ip: u32,
    pub web_card_per_ip: u32,
}

impl RateLimits {
    /// No limits (0 turns each off): for tests, which make many requests from one address.
    pub const OFF: RateLimits = RateLimits {
        api_per_ip: 0,
        api_per_account: 0,
        auth_per_ip: 0,
        web_reply_per_ip: 0,
        web_card_per_ip: 0,
    };
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DeepLinks {
    pub android_package: String,
    pub android_sha256_fingerprints: Vec<String>,
    pub apple_app_ids: Vec<String>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: "127.0.0.1:8787".into(),
            data_dir: "./mingpian-data".into(),
            database_url: None,
            database_connections: 8,
            public_url: None,
            default_region: "CN".into(),
            live_code_seconds: 300,
            max_sets: 20,
            redis_url: None,
            trusted_proxies: Vec::new(),
            quotas: Quotas::default(),
            rate_limit: RateLimits::default(),
            deep_links: DeepLinks::default(),
        }
    }
}

impl Default for RateLimits {
    fn default() -> Self {
        RateLimits {
            api_per_ip: 1200,
            api_per_account: 600,
            auth_per_ip: 20,
            web_reply_per_ip: 5,
            web_card_per_ip: 120,
        }
    }
}

impl Default for DeepLinks {
    fn default() -> Self {
        DeepLinks {
            android_package: "cn.mingpian.card".into(),
            android_sha256_fingerprints: Vec::new(),
            apple_app_ids: Vec::new(),
        }
    }
}

/// The database URL without its password, for logs and `Debug`.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let creds = &url[scheme + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("listen", &self.listen)
            .field("data_dir", &self.data_dir)
            .field("database_url", &self.database_url.as_deref().map(redact))
            .field("database_connections", &self.database_connections)
            .field("public_url", &self.public_url)
            .field("default_region", &self.default_region)
            .field("live_code_seconds", &self.live_code_seconds)
            .field("max_sets", &self.max_sets)
            .field("redis_url", &self.redis_url.as_deref().map(redact))
            .field("trusted_proxies", &self.trusted_proxies)
            .field("quotas", &self.quotas)
            .field("rate_limit", &self.rate_limit)
            .field("deep_links", &self.deep_links)
            .finish()
    }
}

impl Config {
    /// Defaults, then `file` (when given), then `MINGPIAN_*` variables from `env`.
    pub fn load(
        file: Option<&Path>,
        env: impl Fn(&str) -> Option<String>,
    ) -> anyhow::Result<Config> {
        let mut config = match file {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("reading {}", path.display()))?;
                toml::from_str(&text).with_context(|| format!("in {}", path.display()))?
            }
            None => Config::default(),
        };
        if let Some(v) = env("MINGPIAN_LISTEN") {
            config.listen = v;
        }
        if let Some(v) = env("MINGPIAN_DATA_DIR") {
            config.data_dir = v.into();
        }
        if let Some(v) = env("MINGPIAN_DATABASE_URL").filter(|v| !v.is_empty()) {
            config.database_url = Some(v);
        }
        if let Some(v) = env("MINGPIAN_PUBLIC_URL").filter(|v| !v.is_empty()) {
            config.public_url = Some(v);
        }
        if let Some(v) = env("MINGPIAN_DEFAULT_REGION") {
            config.default_region = v;
        }
        if let Some(v) = env("MINGPIAN_LIVE_CODE_SECONDS") {
            config.live_code_seconds = v
                .parse()
                .context("MINGPIAN_LIVE_CODE_SECONDS must be a number of seconds")?;
        }
        if let Some(v) = env("MINGPIAN_REDIS_URL").filter(|v| !v.is_empty()) {
            config.redis_url = Some(v);
        }
        if let Some(v) = env("MINGPIAN_TRUSTED_PROXIES") {
            config.trusted_proxies = v
                .split(',')
                .map(str::trim)
                .filter(|p| !p.is_empty())
                .map(str::to_owned)
                .collect();
        }
        mingpian_card::Region::parse(&config.default_region)?;
        for proxy in &config.trusted_proxies {
            crate::client_ip::Cidr::parse(proxy)
                .with_context(|| format!("trusted_proxies: {proxy:?}"))?;
        }
        Ok(config)
    }

    pub fn database_url(&self) -> String {
        self.database_url
            .clone()
            .unwrap_or_else(|| crate::store::Store::sqlite_url(&self.data_dir))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printed_example_is_exactly_the_defaults() {
        let parsed: Config = toml::from_str(DEFAULT_CONFIG).expect("the example parses");
        assert_eq!(
            format!("{parsed:?}"),
            format!("{:?}", Config::default()),
            "the example must not drift from the code"
        );
    }

    #[test]
    fn file_then_environment_override_defaults() {
        let dir = tempfile::tempdir().expect("temp dir");
        let file = dir.path().join("cloud.toml");
        std::fs::write(
            &file,
            "listen = \"0.0.0.0:9000\"\nmax_sets = 3\n[rate_limit]\napi_per_ip = 0\n",
        )
        .expect("write");
        let config = Config::load(Some(&file), |k| {
            (k == "MINGPIAN_LISTEN").then(|| "127.0.0.1:1".to_owned())
        })
        .expect("loads");
        assert_eq!(config.listen, "127.0.0.1:1", "environment beats the file");
        assert_eq!(config.max_sets, 3, "the file beats the defaults");
        assert_eq!(config.rate_limit.api_per_ip, 0);
        assert_eq!(
            config.rate_limit.auth_per_ip, 20,
            "unset keys keep their defaults"
        );
    }

    #[test]
    fn unknown_keys_and_bad_regions_are_errors() {
        let dir = tempfile::tempdir().expect("temp dir");
        let file = dir.path().join("cloud.toml");
        std::fs::write(&file, "lisen = \"x\"\n").expect("write");
        assert!(
            Config::load(Some(&file), |_| None).is_err(),
            "a typo is reported, not ignored"
        );
        assert!(
            Config::load(None, |k| (k == "MINGPIAN_DEFAULT_REGION")
                .then(|| "XX".into()))
            .is_err()
        );
    }

    #[test]
    fn debug_output_hides_the_database_password() {
        let config = Config {
            database_url: Some("postgres://mp:s3cret@db/mingpian".into()),
            ..Config::default()
        };
        let shown = format!("{config:?}");
        assert!(!shown.contains("s3cret"), "{shown}");
        assert!(shown.contains("postgres://mp:***@db/mingpian"), "{shown}");
    }
}
