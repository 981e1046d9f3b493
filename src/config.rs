//! Settings: `config/default.toml` (embedded), then an optional file, then `VPP_<SECTION>__<KEY>`
//! environment variables. The only module that reads the environment.

use config::{Config, Environment, File, FileFormat};
use serde::Deserialize;
use std::path::{Path, PathBuf};

const DEFAULTS: &str = include_str!("../config/default.toml");
const ENV_PREFIX: &str = "VPP";
/// Environment variable naming an optional settings file (the `--config` option wins).
const CONFIG_FILE_VAR: &str = "VPP_CONFIG";

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    pub server: ServerSettings,
    pub database: DatabaseSettings,
    pub auth: AuthSettings,
    pub seed: SeedSettings,
    pub admin: AdminSettings,
    pub paging: PagingSettings,
    pub limits: Limits,
    pub log: LogSettings,
}

/// How fixtures are applied to what the database already holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum SeedMode {
    /// Only tenants with no tokens are seeded.
    IfEmpty,
    /// Fixture tokens replace stored tokens with the same id; others are kept.
    Upsert,
    /// The fixtures' tenants are wiped, then loaded.
    Replace,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedSettings {
    pub path: PathBuf,
    pub mode: SeedMode,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdminSettings {
    pub token: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSettings {
    pub host: String,
    pub port: u16,
    pub public_base_url: String,
    pub max_body_bytes: usize,
    pub workers: usize,
    pub shutdown_timeout_seconds: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Synchronous {
    Full,
    Normal,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseSettings {
    pub path: PathBuf,
    pub synchronous: Synchronous,
    pub read_pool_size: u32,
    pub group_commit: bool,
    pub max_batch: usize,
}

#[cfg(test)]
impl DatabaseSettings {
    /// What the store's unit tests open: full durability, group commit, one read connection.
    pub fn for_tests(path: PathBuf) -> Self {
        DatabaseSettings {
            path,
            synchronous: Synchronous::Full,
            read_pool_size: 1,
            group_commit: true,
            max_batch: 16,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AuthMode {
    Bearer,
    None,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthSettings {
    pub mode: AuthMode,
    pub default_tenant_id: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PagingSettings {
    pub default_page_size: u32,
    pub max_page_size: u32,
}

/// Bounds on what one request may ask for; past them the answer is a Graph error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    /// Longest string property value, in UTF-8 bytes.
    pub max_string_bytes: usize,
    /// Most items in `tokenActionResults` or `roleScopeTagIds`.
    pub max_collection_items: usize,
    /// Longest request target (path and query), in bytes.
    pub max_url_bytes: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Pretty,
    Json,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogSettings {
    pub format: LogFormat,
    pub level: String,
}

/// A settings problem, worded as one line that names the key.
#[derive(Debug, thiserror::Error)]
#[error("invalid settings: {0}")]
pub struct SettingsError(String);

impl Settings {
    /// Loads the layers. `file` is the `--config` option; without it, `VPP_CONFIG` is used.
    pub fn load(file: Option<&Path>) -> Result<Self, SettingsError> {
        let env_file = std::env::var_os(CONFIG_FILE_VAR).map(PathBuf::from);
        let overrides = std::env::vars()
            .filter(|(name, _)| is_setting_variable(name))
            .collect();
        Self::from_layers(file.or(env_file.as_deref()), overrides)
    }

    /// Loads the embedded defaults, then `file`, then `env` (variables named `VPP_SECTION__KEY`).
    pub fn from_layers(
        file: Option<&Path>,
        env: std::collections::HashMap<String, String>,
    ) -> Result<Self, SettingsError> {
        let mut builder = Config::builder().add_source(File::from_str(DEFAULTS, FileFormat::Toml));
        if let Some(path) = file {
            if !path.is_file() {
                return Err(SettingsError(format!(
                    "the settings file {} does not exist",
                    path.display()
                )));
            }
            builder = builder.add_source(File::from(path).required(true));
        }
        let environment = Environment::with_prefix(ENV_PREFIX)
            .prefix_separator("_")
            .separator("__")
            .try_parsing(true)
            .source(Some(env.into_iter().collect()));
        let settings: Settings = builder
            .add_source(environment)
            .build()
            .and_then(Config::try_deserialize)
            .map_err(|e| SettingsError(e.to_string()))?;
        settings.validate()?;
        Ok(settings)
    }

    fn validate(&self) -> Result<(), SettingsError> {
        let fail = |key: &str, why: &str| Err(SettingsError(format!("{key}: {why}")));
        if self.server.max_body_bytes == 0 {
            return fail("server.max_body_bytes", "must be at least 1");
        }
        let base = &self.server.public_base_url;
        if !(base.is_empty() || base.starts_with("http://") || base.starts_with("https://")) {
            return fail(
                "server.public_base_url",
                "must start with http:// or https://",
            );
        }
        if self.database.path.as_os_str().is_empty() {
            return fail("database.path", "must not be empty");
        }
        if self.database.read_pool_size == 0 {
            return fail("database.read_pool_size", "must be at least 1");
        }
        if self.database.max_batch == 0 {
            return fail("database.max_batch", "must be at least 1");
        }
        if self.auth.default_tenant_id.trim().is_empty() {
            return fail("auth.default_tenant_id", "must not be empty");
        }
        if self.paging.default_page_size == 0 {
            return fail("paging.default_page_size", "must be at least 1");
        }
        if self.paging.max_page_size < self.paging.default_page_size {
            return fail(
                "paging.max_page_size",
                "must not be below paging.default_page_size",
            );
        }
        for (key, value) in [
            ("limits.max_string_bytes", self.limits.max_string_bytes),
            (
                "limits.max_collection_items",
                self.limits.max_collection_items,
            ),
            ("limits.max_url_bytes", self.limits.max_url_bytes),
        ] {
            if value == 0 {
                return fail(key, "must be at least 1");
            }
        }
        if tracing_subscriber::EnvFilter::try_new(&self.log.level).is_err() {
            return fail(
                "log.level",
                "is not a valid level or filter (e.g. \"info\")",
            );
        }
        Ok(())
    }

    /// The seed path, when configured.
    pub fn seed_path(&self) -> Option<&Path> {
        (!self.seed.path.as_os_str().is_empty()).then_some(self.seed.path.as_path())
    }

    /// The admin API's bearer token, when configured.
    pub fn admin_token(&self) -> Option<&str> {
        (!self.admin.token.is_empty()).then_some(self.admin.token.as_str())
    }

    /// The public base URL without a trailing slash, when configured.
    pub fn public_base_url(&self) -> Option<&str> {
        let base = self.server.public_base_url.trim_end_matches('/');
        (!base.is_empty()).then_some(base)
    }
}

/// `VPP_SECTION__KEY` names a setting; `VPP_CONFIG` (and other single-word names) do not.
fn is_setting_variable(name: &str) -> bool {
    name.strip_prefix("VPP_")
        .is_some_and(|rest| rest.contains("__"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn with_env(pairs: &[(&str, &str)]) -> Result<Settings, SettingsError> {
        let env: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Settings::from_layers(None, env)
    }

    #[test]
    fn defaults_load_and_are_safe() -> Result<(), SettingsError> {
        let settings = with_env(&[])?;
        assert_eq!(settings.server.host, "127.0.0.1");
        assert_eq!(settings.server.port, 8080);
        assert_eq!(settings.database.synchronous, Synchronous::Full);
        assert_eq!(settings.auth.mode, AuthMode::Bearer);
        assert_eq!(settings.public_base_url(), None);
        Ok(())
    }

    #[test]
    fn environment_overrides_defaults() -> Result<(), SettingsError> {
        let settings = with_env(&[("VPP_SERVER__PORT", "9001"), ("VPP_AUTH__MODE", "none")])?;
        assert_eq!(settings.server.port, 9001);
        assert_eq!(settings.auth.mode, AuthMode::None);
        Ok(())
    }

    #[test]
    fn bad_values_name_their_key() {
        for (pairs, key) in [
            (vec![("VPP_SERVER__PORT", "http")], "server.port"),
            (
                vec![("VPP_DATABASE__SYNCHRONOUS", "fast")],
                "database.synchronous",
            ),
            (
                vec![("VPP_PAGING__MAX_PAGE_SIZE", "5")],
                "paging.max_page_size",
            ),
            (vec![("VPP_LOG__LEVEL", "loud=[")], "log.level"),
            (vec![("VPP_SERVER__PROT", "1")], "prot"),
        ] {
            let message = match with_env(&pairs) {
                Ok(_) => String::from("accepted"),
                Err(e) => e.to_string(),
            };
            assert!(message.contains(key), "{message} should name {key}");
        }
    }
}
