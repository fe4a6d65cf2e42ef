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
    #[serde(default)]
    email_column: Columns,
    #[serde(default)]
    idp_column: Columns,
    /// The identity provider as the source of values (`[idp]`).
    idp: Option<crate::idp::settings::FileSettings>,
}

/// `idp_column = "HEADER"`, or a list of `HEADER` and `FILE=HEADER` values (as the flags take).
#[derive(Debug, Default, Deserialize)]
#[serde(untagged)]
enum Columns {
    #[default]
    None,
    One(String),
    Many(Vec<String>),
}

impl Columns {
    fn specs(self) -> Vec<String> {
        match self {
            Columns::None => Vec::new(),
            Columns::One(s) => vec![s],
            Columns::Many(v) => v,
        }
    }
}

/// What the flags say (None: not given).
#[derive(Clone, Debug, Default)]
pub struct Flags {
    pub config: Option<PathBuf>,
    pub base_url: Option<String>,
    pub organization: Option<String>,
    pub token_file: Option<PathBuf>,
    pub users_csv: Vec<PathBuf>,
    /// Each `HEADER` (every file) or `FILE=HEADER` (one file), as given.
    pub email_column: Vec<String>,
    pub idp_column: Vec<String>,
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
    #[error("{}", crate::domain::text::sanitize(.0))]
    Message(String),
    /// A problem with a value the config file gave (a path in it is read next to it).
    #[error("{}: {source}", crate::domain::text::sanitize(&.config.display().to_string()))]
    InConfig { config: PathBuf, source: Box<ConfigError> },
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
        let config = flags
            .config
            .clone()
            .or_else(|| env("GROUPMAP_CONFIG").map(PathBuf::from))
            .or_else(|| default_config_path().filter(|p| p.exists()));
        let mut file = match &config {
            Some(p) => read_file_config(p)?,
            None => FileConfig::default(),
        };
        // Paths in the config file are read next to it, wherever groupmap is run from.
        let dir = config.as_deref().and_then(Path::parent).map(Path::to_path_buf).unwrap_or_default();
        let beside = |p: PathBuf| if p.is_relative() { dir.join(p) } else { p };
        let relative: Vec<bool> = file.users_csv.iter().map(|p| p.is_relative()).collect();
        file.users_csv = std::mem::take(&mut file.users_csv).into_iter().map(beside).collect();
        file.token_file = file.token_file.map(beside);
        if let Some(idp) = file.idp.as_mut() {
            idp.token_file = idp.token_file.take().map(beside);
            idp.access_token_file = idp.access_token_file.take().map(beside);
        }
        let in_config = |e: ConfigError| match &config {
            Some(c) => ConfigError::InConfig { config: c.clone(), source: Box::new(e) },
            None => e,
        };
        let base_url = flags.base_url.clone().or_else(|| env("GROUPMAP_BASE_URL")).or(file.base_url);
        let base_url_set = base_url.is_some();
        let given_token_file = flags.token_file.clone().or_else(|| env("GROUPMAP_TOKEN_FILE").map(PathBuf::from));
        let token_from_config = given_token_file.is_none();
        let token_file = given_token_file.or(file.token_file);
        let token = match env("CALENDLY_TOKEN").filter(|t| !t.trim().is_empty()) {
            Some(t) => Some(Secret::new(t.trim())),
            None => match token_file {
                Some(p) if token_from_config => {
                    Some(read_token_file(&p).map_err(|e| in_config(ConfigError::Message(format!("token_file: {e}"))))?)
                }
                Some(p) => Some(read_token_file(&p)?),
                None => None,
            },
        };
        let base_url = base_url.unwrap_or_else(|| DEFAULT_BASE_URL.to_owned());
        if token.is_none() && base_url_set {
            return Err(ConfigError::NoToken { base_url });
        }
        let users_csv = if flags.users_csv.is_empty() {
            for (p, relative) in file.users_csv.iter().zip(relative) {
                if let Err(e) = std::fs::metadata(p) {
                    let beside = if relative { " (read next to the config file)" } else { "" };
                    let message = format!("users_csv: {}{beside}: {e}", p.display());
                    return Err(in_config(ConfigError::Message(message)));
                }
            }
            file.users_csv
        } else {
            flags.users_csv.clone()
        };
        let files: Vec<String> = users_csv.iter().map(|p| p.display().to_string()).collect();
        let flagged = !flags.email_column.is_empty() || !flags.idp_column.is_empty();
        let fields = if flagged {
            FieldChoice::from_specs(&flags.email_column, &flags.idp_column, &files, crate::domain::columns::FLAGS)
                .map_err(ConfigError::Message)?
        } else {
            let (email, idp) = (file.email_column.specs(), file.idp_column.specs());
            FieldChoice::from_specs(&email, &idp, &files, ["email_column", "idp_column"])
                .map_err(|e| in_config(ConfigError::Message(e)))?
        };
        let idp = crate::idp::Settings::resolve(&flags.idp, file.idp);
        Ok(Config {
            idp,
            base_url,
            organization: flags.organization.clone().or_else(|| env("GROUPMAP_ORG")).or(file.organization),
            token,
            users_csv,
            fields,
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

    /// The reported defect: `users_csv = ["active.csv"]` was read from the current directory,
    /// and the error did not say the path came from the config file.
    #[test]
    fn relative_paths_in_the_config_file_are_read_next_to_it_and_errors_name_it() {
        let dir = tempfile::tempdir().unwrap();
        let sub = dir.path().join("groupmap");
        std::fs::create_dir(&sub).unwrap();
        std::fs::write(sub.join("active.csv"), "Login email,Identity Provider Group\n").unwrap();
        let cfg = sub.join("config.toml");
        std::fs::write(&cfg, "users_csv = [\"active.csv\"]\nidp_column = [\"active.csv=Team\", \"IdP Group\"]\n")
            .unwrap();
        let flags = Flags { config: Some(cfg.clone()), ..Flags::default() };
        let c = Config::resolve(&flags, &env_of(&[])).unwrap();
        assert_eq!(c.users_csv, [sub.join("active.csv")]);
        assert_eq!(c.fields.idp_value.as_deref(), Some("IdP Group"));
        assert_eq!(c.fields.by_file[0].file, sub.join("active.csv").display().to_string());

        std::fs::write(&cfg, "users_csv = [\"active.csv\", \"pending.csv\"]\n").unwrap();
        let e = Config::resolve(&flags, &env_of(&[])).unwrap_err().to_string();
        let pending = sub.join("pending.csv");
        assert!(
            e.starts_with(&format!(
                "{}: users_csv: {} (read next to the config file): No such file",
                cfg.display(),
                pending.display()
            )),
            "{e}"
        );
        std::fs::write(&cfg, "users_csv = [\"active.csv\"]\nidp_column = \"other.csv=X\"\n").unwrap();
        let e = Config::resolve(&flags, &env_of(&[])).unwrap_err().to_string();
        assert!(
            e.starts_with(&format!("{}: idp_column \"other.csv=X\": \"other.csv\" is not one of", cfg.display())),
            "{e}"
        );
        // Flags keep their usual meaning: relative to where groupmap runs.
        std::fs::write(&cfg, "users_csv = [\"active.csv\"]\n").unwrap();
        let flagged = Flags { users_csv: vec!["here.csv".into()], ..flags };
        assert_eq!(Config::resolve(&flagged, &env_of(&[])).unwrap().users_csv, [PathBuf::from("here.csv")]);
    }

    #[test]
    fn a_relative_token_file_in_the_config_is_read_next_to_it_and_its_error_names_the_config() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let cfg = dir.path().join("config.toml");
        std::fs::write(&cfg, "token_file = \"token\"\n").unwrap();
        let tf = dir.path().join("token");
        std::fs::write(&tf, "s3cret\n").unwrap();
        std::fs::set_permissions(&tf, std::fs::Permissions::from_mode(0o600)).unwrap();
        let flags = Flags { config: Some(cfg.clone()), ..Flags::default() };
        assert_eq!(Config::resolve(&flags, &env_of(&[])).unwrap().token.unwrap().expose(), "s3cret");
        std::fs::set_permissions(&tf, std::fs::Permissions::from_mode(0o644)).unwrap();
        let e = Config::resolve(&flags, &env_of(&[])).unwrap_err().to_string();
        assert!(
            e.starts_with(&format!("{}: token_file: {}: the token file can be read", cfg.display(), tf.display())),
            "{e}"
        );
    }
}
