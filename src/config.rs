//! Layered configuration: defaults < file (TOML) < environment < flags. The token comes from
//! the environment or a file, never from the command line.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::domain::FieldChoice;
use crate::service::calendly::Secret;

pub const DEFAULT_BASE_URL: &str = "https://api.calendly.com";

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    base_url: Option<String>,
    organization: Option<String>,
    token_file: Option<PathBuf>,
    #[serde(default)]
    users_csv: Vec<PathBuf>,
    email_column: Option<String>,
    idp_column: Option<String>,
    /// The identity provider as the source of values (`[idp]`).
    idp: Option<crate::idp::settings::FileSettings>,
}

/// What the flags say (None: not given).
#[derive(Clone, Debug, Default)]
pub struct Flags {
    pub config: Option<PathBuf>,
    pub base_url: Option<String>,
    pub organization: Option<String>,
    pub token_file: Option<PathBuf>,
    pub users_csv: Vec<PathBuf>,
    pub email_column: Option<String>,
    pub idp_column: Option<String>,
    pub idp: crate::idp::settings::Flags,
}

#[derive(Clone, Debug)]
pub struct Config {
    pub base_url: String,
    pub organization: Option<String>,
    /// None: nothing configured; commands then use the bundled sandbox.
    pub token: Option<Secret>,
    pub users_csv: Vec<PathBuf>,
    pub fields: FieldChoice,
    pub idp: crate::idp::Settings,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{}: {}", crate::domain::text::sanitize(.path), crate::domain::text::sanitize(.message))]
    File { path: String, message: String },
    #[error("{path}: the token file can be read by other users (mode {mode:o}); run `chmod 600 {path}`")]
    TokenFileOpen { path: String, mode: u32 },
    #[error("{path}: the token file is empty")]
    TokenFileEmpty { path: String },
    #[error("a base URL is configured ({base_url}) but no token: set CALENDLY_TOKEN or token_file")]
    NoToken { base_url: String },
}

pub fn default_config_path() -> Option<PathBuf> {
    dirs::config_dir().map(|d| d.join("groupmap").join("config.toml"))
}

fn read_file_config(path: &Path) -> Result<FileConfig, ConfigError> {
    use crate::domain::mapping_file::{from_toml, read_text};
    let located = |e: crate::domain::mapping_file::FileError| ConfigError::File {
        path: match e.line {
            Some(l) => format!("{}:{l}", e.path),
            None => e.path,
        },
        message: match e.key {
            Some(k) => format!("{k}: {}", e.message),
            None => e.message,
        },
    };
    let text = read_text(path).map_err(located)?;
    from_toml(&path.display().to_string(), &text).map_err(located)
}

pub fn read_token_file(path: &Path) -> Result<Secret, ConfigError> {
    let shown = path.display().to_string();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let meta =
            std::fs::metadata(path).map_err(|e| ConfigError::File { path: shown.clone(), message: e.to_string() })?;
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(ConfigError::TokenFileOpen { path: shown, mode });
        }
    }
    let text =
        std::fs::read_to_string(path).map_err(|e| ConfigError::File { path: shown.clone(), message: e.to_string() })?;
    let token = text.trim();
    if token.is_empty() {
        return Err(ConfigError::TokenFileEmpty { path: shown });
    }
    Ok(Secret::new(token))
}

impl Config {
    /// Resolves the layers; `env` is passed in so tests need not touch the process environment.
    pub fn resolve(flags: &Flags, env: &dyn Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let file = match flags.config.clone().or_else(|| env("GROUPMAP_CONFIG").map(PathBuf::from)) {
            Some(p) => read_file_config(&p)?,
            None => match default_config_path().filter(|p| p.exists()) {
                Some(p) => read_file_config(&p)?,
                None => FileConfig::default(),
            },
        };
        let base_url = flags.base_url.clone().or_else(|| env("GROUPMAP_BASE_URL")).or(file.base_url);
        let base_url_set = base_url.is_some();
        let token_file =
            flags.token_file.clone().or_else(|| env("GROUPMAP_TOKEN_FILE").map(PathBuf::from)).or(file.token_file);
        let token = match env("CALENDLY_TOKEN").filter(|t| !t.trim().is_empty()) {
            Some(t) => Some(Secret::new(t.trim())),
            None => match token_file {
                Some(p) => Some(read_token_file(&p)?),
                None => None,
            },
        };
        let base_url = base_url.unwrap_or_else(|| DEFAULT_BASE_URL.to_owned());
        if token.is_none() && base_url_set {
            return Err(ConfigError::NoToken { base_url });
        }
        let idp = crate::idp::Settings::resolve(&flags.idp, file.idp);
        Ok(Config {
            idp,
            base_url,
            organization: flags.organization.clone().or_else(|| env("GROUPMAP_ORG")).or(file.organization),
            token,
            users_csv: if flags.users_csv.is_empty() { file.users_csv } else { flags.users_csv.clone() },
            fields: FieldChoice {
                email: flags.email_column.clone().or(file.email_column),
                idp_value: flags.idp_column.clone().or(file.idp_column),
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_of(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |k| pairs.iter().find(|(n, _)| *n == k).map(|(_, v)| (*v).to_owned())
    }

    #[test]
    fn flags_beat_env_beat_file() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = dir.path().join("c.toml");
        std::fs::write(&cfg, "base_url = \"https://file\"\norganization = \"https://file/organizations/F\"\n").unwrap();
        let flags = Flags {
            config: Some(cfg.clone()),
            organization: Some("https://flag/organizations/X".into()),
            ..Flags::default()
        };
        let c =
            Config::resolve(&flags, &env_of(&[("CALENDLY_TOKEN", "t"), ("GROUPMAP_BASE_URL", "https://env")])).unwrap();
        assert_eq!(c.base_url, "https://env");
        assert_eq!(c.organization.as_deref(), Some("https://flag/organizations/X"));
        assert_eq!(c.token.unwrap().expose(), "t");
    }

    #[test]
    fn config_errors_name_file_line_and_key() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = dir.path().join("c.toml");
        std::fs::write(&cfg, "base_url = \"x\"\ntoken = \"abc\"\n").unwrap();
        let flags = Flags { config: Some(cfg.clone()), ..Flags::default() };
        let e = Config::resolve(&flags, &env_of(&[])).unwrap_err().to_string();
        assert!(e.starts_with(&format!("{}:2: token: unknown field `token`", cfg.display())), "{e}");
    }

    #[test]
    fn world_readable_token_file_is_refused_and_token_not_shown() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let tf = dir.path().join("token");
        std::fs::write(&tf, "s3cret\n").unwrap();
        std::fs::set_permissions(&tf, std::fs::Permissions::from_mode(0o644)).unwrap();
        let e = read_token_file(&tf).unwrap_err().to_string();
        assert!(e.contains("chmod 600") && !e.contains("s3cret"), "{e}");
        std::fs::set_permissions(&tf, std::fs::Permissions::from_mode(0o600)).unwrap();
        let t = read_token_file(&tf).unwrap();
        assert_eq!(t.expose(), "s3cret");
        assert!(!format!("{t:?}").contains("s3cret"));
    }

    #[test]
    fn base_url_without_token_is_an_error_but_nothing_configured_is_not() {
        let flags = Flags { base_url: Some("https://x".into()), config: Some("/dev/null".into()), ..Flags::default() };
        assert!(matches!(Config::resolve(&flags, &env_of(&[])), Err(ConfigError::NoToken { .. })));
        let none = Config::resolve(&Flags::default(), &env_of(&[("GROUPMAP_CONFIG", "/dev/null")])).unwrap();
        assert!(none.token.is_none() && none.base_url == DEFAULT_BASE_URL);
    }
}
