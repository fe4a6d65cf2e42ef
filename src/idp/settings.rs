//! Which source of IdP values, and its settings: `--idp`, `--idp-url`, `--idp-token-url`,
//! `--idp-attribute`, `--idp-app`, `--values`, or the same keys in the config file's `[idp]`
//! table. Secrets come only from the environment or owner-only files, never from flags.

use std::path::PathBuf;

use serde::Deserialize;

use super::Kind;
use super::http::HttpOptions;
use crate::domain::sync::ValuesFrom;

/// The `[idp]` table of the config file.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileSettings {
    /// `export` (default), `okta`, `entra`, `onelogin`.
    pub source: Option<Kind>,
    pub url: Option<String>,
    pub token_url: Option<String>,
    pub attribute: Option<String>,
    pub app: Option<String>,
    /// An owner-only file holding the provider's API token (Okta: sent as `SSWS`).
    pub token_file: Option<PathBuf>,
    /// An owner-only file holding an OAuth access token (sent as `Bearer`).
    pub access_token_file: Option<PathBuf>,
    /// Entra ID: the directory (tenant) id or domain; or `AZURE_TENANT_ID`.
    pub tenant: Option<String>,
    /// The OAuth client id (Entra ID's application id, OneLogin's API credential); or the
    /// provider's environment variable.
    pub client_id: Option<String>,
    /// An owner-only file holding the OAuth client secret; or the provider's environment variable.
    pub client_secret_file: Option<PathBuf>,
    /// `calendly` (default) or `idp`: which value the plan uses where the two differ.
    pub values: Option<ValuesFrom>,
}

/// What the flags say (None: not given).
#[derive(Clone, Debug, Default)]
pub struct Flags {
    pub source: Option<Kind>,
    pub url: Option<String>,
    pub token_url: Option<String>,
    pub attribute: Option<String>,
    pub app: Option<String>,
    pub values: Option<ValuesFrom>,
}

/// The settings resolved: flags beat the file.
#[derive(Clone, Debug, Default)]
pub struct Settings {
    pub source: Kind,
    pub url: Option<String>,
    pub token_url: Option<String>,
    pub attribute: Option<String>,
    pub app: Option<String>,
    pub token_file: Option<PathBuf>,
    pub access_token_file: Option<PathBuf>,
    pub tenant: Option<String>,
    pub client_id: Option<String>,
    pub client_secret_file: Option<PathBuf>,
    pub values_from: ValuesFrom,
    /// Patience and page size; None: the provider's defaults (tests shorten them).
    pub http: Option<HttpOptions>,
}

impl Settings {
    /// `file` is the config file's `[idp]` table.
    pub fn resolve(flags: &Flags, file: Option<FileSettings>) -> Settings {
        let file = file.unwrap_or_default();
        Settings {
            source: flags.source.or(file.source).unwrap_or_default(),
            url: flags.url.clone().or(file.url),
            token_url: flags.token_url.clone().or(file.token_url),
            attribute: flags.attribute.clone().or(file.attribute),
            app: flags.app.clone().or(file.app),
            token_file: file.token_file,
            access_token_file: file.access_token_file,
            tenant: file.tenant,
            client_id: file.client_id,
            client_secret_file: file.client_secret_file,
            values_from: flags.values.or(file.values).unwrap_or_default(),
            http: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::config::{Config, Flags};
    use crate::domain::sync::ValuesFrom;
    use crate::idp::Kind;

    #[test]
    fn the_idp_table_is_read_and_flags_beat_it() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = dir.path().join("c.toml");
        std::fs::write(
            &cfg,
            "[idp]\nsource = \"okta\"\nurl = \"https://acme.okta.com\"\napp = \"0oa1\"\nattribute = \"department\"\n\
             token_file = \"/t\"\nvalues = \"idp\"\n",
        )
        .unwrap();
        let env = |_: &str| None;
        let flags = Flags { config: Some(cfg.clone()), ..Flags::default() };
        let c = Config::resolve(&flags, &env).unwrap();
        assert_eq!(
            (c.idp.source, c.idp.url.as_deref(), c.idp.app.as_deref()),
            (Kind::Okta, Some("https://acme.okta.com"), Some("0oa1"))
        );
        assert_eq!((c.idp.attribute.as_deref(), c.idp.values_from), (Some("department"), ValuesFrom::Idp));
        assert_eq!(c.idp.token_file.as_deref(), Some(std::path::Path::new("/t")));
        let flags = Flags {
            config: Some(cfg.clone()),
            idp: super::Flags {
                attribute: Some("costCenter".into()),
                values: Some(ValuesFrom::Calendly),
                ..super::Flags::default()
            },
            ..Flags::default()
        };
        let c = Config::resolve(&flags, &env).unwrap();
        assert_eq!((c.idp.attribute.as_deref(), c.idp.values_from), (Some("costCenter"), ValuesFrom::Calendly));
    }

    #[test]
    fn a_token_in_the_idp_table_is_refused_with_its_line() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = dir.path().join("c.toml");
        std::fs::write(&cfg, "[idp]\nsource = \"okta\"\ntoken = \"00abc\"\n").unwrap();
        let flags = Flags { config: Some(cfg.clone()), ..Flags::default() };
        let e = Config::resolve(&flags, &|_| None).unwrap_err().to_string();
        assert!(e.starts_with(&format!("{}:3: idp.token: unknown field `token`", cfg.display())), "{e}");
        assert!(!e.contains("00abc"), "{e}");
        std::fs::write(&cfg, "[idp]\nsource = \"ping\"\n").unwrap();
        let e = Config::resolve(&flags, &|_| None).unwrap_err().to_string();
        assert!(e.contains(":2:") && e.contains("ping"), "{e}");
    }
}
