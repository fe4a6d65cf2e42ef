//! Okta as the source of IdP values: the Calendly app's app-user profiles
//! (`GET /api/v1/apps/{appId}/users`, exactly what Okta sends Calendly) or, without an app id,
//! the users' profiles (`GET /api/v1/users`). Read as one table whose columns are `userName`
//! (what Okta sends Calendly as the SCIM `userName`) and every profile attribute seen, flattened.

pub mod client;
pub mod wire;

use futures_util::FutureExt;
use futures_util::future::BoxFuture;

use super::error::IdpError;
use super::http::{Auth, Http, HttpOptions};
use super::settings::Settings;
use super::{IdpSource, ValueSource};
use crate::config::read_token_file;
use crate::domain::{Export, FieldChoice};
use crate::service::calendly::Secret;
use crate::service::{LoadError, Progress};
pub use client::OktaClient;
use wire::Item;

pub use super::table::USER_NAME;
use super::table::url_segment;

#[derive(Clone, Debug)]
pub struct Okta {
    client: OktaClient,
    /// The Calendly app's id; None reads all users.
    app: Option<String>,
}

impl Okta {
    pub fn new(client: OktaClient, app: Option<String>) -> Okta {
        Okta { client, app }
    }

    fn path(&self) -> String {
        match &self.app {
            Some(app) => format!("/api/v1/apps/{}/users", url_segment(app)),
            None => "/api/v1/users".to_owned(),
        }
    }

    fn label(&self) -> String {
        format!("Okta {}", self.client.http.host())
    }
}

impl ValueSource for Okta {
    fn describe(&self) -> String {
        format!("{} (GET {})", self.label(), self.path())
    }

    fn provider(&self) -> Option<String> {
        Some(self.label())
    }

    fn read_with_progress<'a>(
        &'a self,
        _organization: &'a str,
        progress: Option<&'a Progress>,
    ) -> BoxFuture<'a, Result<Vec<Export>, LoadError>> {
        async move {
            let path = self.path();
            let items = self.client.list(&path, progress).await?;
            Ok(vec![table(&self.describe(), items, self.app.is_some())])
        }
        .boxed()
    }
}

/// The login email of one user: the app user's `credentials.userName`; for a user, the profile's
/// `login` when it is an address, else its `email`.
fn user_name(item: &Item, app_user: bool) -> String {
    let profile = |k: &str| item.profile.as_ref().and_then(|p| p.get(k)).and_then(|v| v.as_str()).map(str::to_owned);
    let cred = item.credentials.as_ref().and_then(|c| c.user_name.clone());
    let login = profile("login").filter(|l| l.contains('@'));
    if app_user { cred.or(login).or_else(|| profile("email")) } else { login.or_else(|| profile("email")).or(cred) }
        .unwrap_or_default()
}

/// The users as one table: `userName`, then every attribute seen, sorted (a profile attribute
/// itself named `userName` is shown as `profile.userName`).
pub fn table(source: &str, items: Vec<Item>, app_users: bool) -> Export {
    let users = items
        .iter()
        .map(|item| {
            let attrs = item.profile.as_ref().map(|p| super::table::attributes(p, "profile")).unwrap_or_default();
            (user_name(item, app_users), attrs)
        })
        .collect();
    super::table::table(source, users)
}

/// Okta from the settings: the org URL, a token from the environment or an owner-only file.
pub fn open(s: &Settings, env: &dyn Fn(&str) -> Option<String>) -> Result<IdpSource, IdpError> {
    let url = s.url.as_deref().ok_or_else(|| {
        IdpError::Settings(
            "--idp okta needs the Okta org URL: --idp-url https://YOUR-ORG.okta.com (or url in [idp])".to_owned(),
        )
    })?;
    let env_token = |name: &str| env(name).map(|t| t.trim().to_owned()).filter(|t| !t.is_empty());
    let file_token = |p: &std::path::Path| read_token_file(p).map_err(|e| IdpError::Settings(e.to_string()));
    let (auth, token_source) = if let Some(t) = env_token("OKTA_API_TOKEN") {
        (Auth { scheme: "SSWS", token: Secret::new(t) }, "OKTA_API_TOKEN".to_owned())
    } else if let Some(t) = env_token("OKTA_ACCESS_TOKEN") {
        (Auth { scheme: "Bearer", token: Secret::new(t) }, "OKTA_ACCESS_TOKEN".to_owned())
    } else if let Some(p) = &s.token_file {
        (Auth { scheme: "SSWS", token: file_token(p)? }, format!("the token file {}", p.display()))
    } else if let Some(p) = &s.access_token_file {
        (Auth { scheme: "Bearer", token: file_token(p)? }, format!("the access-token file {}", p.display()))
    } else {
        return Err(IdpError::Settings(
            "--idp okta needs a token: set OKTA_API_TOKEN (an API token) or OKTA_ACCESS_TOKEN (an OAuth access \
             token), or name an owner-only file with token_file (or access_token_file) in [idp]"
                .to_owned(),
        ));
    };
    let http = Http::new(url, "--idp-url", auth, s.http.clone().unwrap_or_else(okta_options))?;
    let okta = Okta::new(OktaClient { http, token_source }, s.app.clone());
    Ok(IdpSource {
        provider: okta.label(),
        fields: FieldChoice {
            email: Some(USER_NAME.to_owned()),
            idp_value: s.attribute.clone(),
            ..FieldChoice::default()
        },
        source: std::sync::Arc::new(okta),
    })
}

/// Okta's page sizes: 200 is the most `/api/v1/users` gives, and app users take it too.
fn okta_options() -> HttpOptions {
    HttpOptions { page_size: 200, ..HttpOptions::default() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_has_user_name_then_every_attribute_sorted() {
        let items: Vec<Item> = serde_json::from_str(
            r#"[{"credentials":{"userName":"a@x"},"profile":{"department":"Sales","email":"a@x"}},
                {"credentials":{"userName":"b@x"},"profile":{"Title":"Eng","userName":"odd"}},
                {"profile":{"email":"c@x"}}]"#,
        )
        .unwrap();
        let e = table("Okta t", items, true);
        assert_eq!(e.headers, ["userName", "department", "email", "profile.userName", "Title"]);
        assert_eq!(e.records[0].1.iter().collect::<Vec<_>>(), ["a@x", "Sales", "a@x", "", ""]);
        assert_eq!(&e.records[1].1[3], "odd");
        assert_eq!(&e.records[2].1[0], "c@x", "no credentials: the profile's email");
        assert_eq!(url_segment("0oa1/../x?y"), "0oa1%2F..%2Fx%3Fy");
    }
}
