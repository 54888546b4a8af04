//! Configuration: the built-in `config/default.toml`, an optional file, and
//! `SPOR_` environment variables, in that order.

use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::{Deserialize, Serialize};
use spor_domain::Policy;
use spor_domain::person::SyntheticIds;

const DEFAULTS: &str = include_str!("../../../config/default.toml");

/// Every setting, resolved. Serialize too: a command sent to a running
/// server takes its settings along (`relay.rs`), so every part must be.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    pub data_dir: PathBuf,
    pub ids: Ids,
    pub store: Store,
    pub import: Import,
    pub lint: Lint,
    pub reminders: Reminders,
    pub survey: Survey,
    pub server: Server,
    pub login: Login,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Server {
    pub listen: std::net::SocketAddr,
    pub import_limit_mb: usize,
    pub request_timeout_seconds: u64,
    pub trusted_origins: Vec<String>,
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// PEM files for TLS; both empty means plain HTTP.
    pub tls_certificate: PathBuf,
    pub tls_key: PathBuf,
}

/// Where `spor serve` finds its TLS certificate chain and private key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    pub certificate: PathBuf,
    pub key: PathBuf,
}

impl Server {
    /// The TLS files, if both are named; one without the other is a
    /// configuration error naming the one missing.
    pub fn tls(&self) -> Result<Option<TlsFiles>, ConfigError> {
        let named = |p: &Path| !p.as_os_str().is_empty();
        match (named(&self.tls_certificate), named(&self.tls_key)) {
            (false, false) => Ok(None),
            (true, true) => Ok(Some(TlsFiles { certificate: self.tls_certificate.clone(), key: self.tls_key.clone() })),
            (true, false) => Err(ConfigError(
                "configuration: server.tls_certificate is set but server.tls_key is not \
                 (SPOR_SERVER__TLS_KEY): give both PEM files for TLS, or neither for plain HTTP"
                    .to_owned(),
            )),
            (false, true) => Err(ConfigError(
                "configuration: server.tls_key is set but server.tls_certificate is not \
                 (SPOR_SERVER__TLS_CERTIFICATE): give both PEM files for TLS, or neither for plain HTTP"
                    .to_owned(),
            )),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ids {
    pub allow_synthetic: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Store {
    pub cache_capacity_mb: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Import {
    pub batch_events: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Lint {
    pub stale_days: u32,
    pub late_exit_days: u32,
}

impl Lint {
    pub fn limits(&self) -> spor_projections::lint::LintLimits {
        spor_projections::lint::LintLimits {
            stale_days: self.stale_days,
            late_exit_days: self.late_exit_days,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Reminders {
    pub nav_handover_months_before: u32,
    pub post_exit_months: Vec<u32>,
    pub post_exit_window_months: u32,
    pub stale_days: u32,
    pub within_days: u32,
}

impl Reminders {
    pub fn rules(&self) -> spor_projections::reminders::ReminderRules {
        spor_projections::reminders::ReminderRules {
            nav_handover_months_before: self.nav_handover_months_before,
            post_exit_months: self.post_exit_months.clone(),
            post_exit_window_months: self.post_exit_window_months,
            stale_days: self.stale_days,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Survey {
    pub suppress_up_to: u64,
}

/// A configuration problem: exits with the usage code.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(pub String);

impl Settings {
    /// Loads the layers. `file` is `--config`; `env` is the process
    /// environment (passed in so tests can give their own).
    pub fn load(file: Option<&Path>, env: &[(String, String)]) -> anyhow::Result<Self> {
        let mut builder = config::Config::builder()
            .add_source(config::File::from_str(DEFAULTS, config::FileFormat::Toml));
        if let Some(path) = file {
            if !path.exists() {
                return Err(
                    ConfigError(format!("config file {} does not exist", path.display())).into(),
                );
            }
            builder = builder.add_source(config::File::from(path).format(config::FileFormat::Toml));
        }
        let vars: config::Map<String, String> = env
            .iter()
            .filter(|(k, _)| k.starts_with("SPOR_") && k.contains("__") || k == "SPOR_DATA_DIR")
            .cloned()
            .collect();
        builder = builder.add_source(
            config::Environment::with_prefix("SPOR")
                .prefix_separator("_")
                .separator("__")
                .try_parsing(true)
                // Lists in the environment are comma-separated:
                // SPOR_SERVER__TRUSTED_ORIGINS=https://a.no,https://b.no
                .list_separator(",")
                .with_list_parse_key("server.trusted_origins")
                .with_list_parse_key("server.trusted_proxies")
                .with_list_parse_key("reminders.post_exit_months")
                .source(Some(vars)),
        );
        // No separator scheme maps this documented name onto ids.allow_synthetic.
        if let Some((_, v)) = env.iter().find(|(k, _)| k == "SPOR_ALLOW_SYNTHETIC_IDS") {
            let on = matches!(
                v.trim().to_ascii_lowercase().as_str(),
                "1" | "true" | "yes" | "on"
            );
            builder = builder
                .set_override("ids.allow_synthetic", on)
                .context("SPOR_ALLOW_SYNTHETIC_IDS")?;
        }
        let settings: Settings = builder
            .build()
            .and_then(config::Config::try_deserialize)
            .map_err(|e| ConfigError(format!("configuration: {e}")))?;
        if settings.import.batch_events == 0 {
            return Err(ConfigError(
                "configuration: import.batch_events must be at least 1".into(),
            )
            .into());
        }
        Ok(settings)
    }

    pub fn policy(&self) -> Policy {
        Policy {
            synthetic_ids: if self.ids.allow_synthetic {
                SyntheticIds::Allowed
            } else {
                SyntheticIds::Refused
            },
        }
    }
}

/// `[login]`: browser sessions and the throttle on password and code guessing.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Login {
    pub session_idle_minutes: u64,
    pub address_attempts: u32,
    pub address_seconds_per_attempt: u64,
    pub account_address_attempts: u32,
    pub account_address_seconds_per_attempt: u64,
    pub account_attempts: u32,
    pub account_seconds_per_attempt: u64,
    pub slow_down_ms: u64,
    pub password_min_chars: usize,
}

impl Login {
    pub fn limits(&self) -> spor_server::LoginLimits {
        use std::time::Duration;
        spor_server::LoginLimits {
            address_burst: self.address_attempts,
            address_every: Duration::from_secs(self.address_seconds_per_attempt),
            account_address_burst: self.account_address_attempts,
            account_address_every: Duration::from_secs(self.account_address_seconds_per_attempt),
            account_burst: self.account_attempts,
            account_every: Duration::from_secs(self.account_seconds_per_attempt),
            slow_down: Duration::from_millis(self.slow_down_ms),
        }
    }

    pub fn password_policy(&self) -> spor_accounts::PasswordPolicy {
        spor_accounts::PasswordPolicy {
            min_chars: self.password_min_chars,
            ..spor_accounts::PasswordPolicy::default()
        }
    }
}
