//! Microsoft Entra ID (through Microsoft Graph) as the source of IdP values: the users
//! (`GET /v1.0/users?$select=…&$top=999`, page after page by `@odata.nextLink`) or, with the
//! Calendly enterprise app's service principal id, only those assigned to it (directly or
//! through a group: `GET /v1.0/servicePrincipals/{id}/appRoleAssignedTo`). 429 is waited out
//! as `Retry-After` says. The token comes from the tenant's token endpoint (client credentials)
//! or is given as is.

pub mod wire;

use std::collections::HashSet;
use std::time::Duration;

use futures_util::FutureExt;
use futures_util::future::BoxFuture;
use serde_json::{Map, Value};

use super::error::{IdpError, status_error};
use super::http::{Auth, Http, HttpOptions, Reply};
use super::oauth::{ClientCredentials, Credentials, Request, Session, env_or, env_or_file};
use super::paging::{Page, read_all, retry_after};
use super::settings::Settings;
use super::table::{USER_NAME, attributes, table, url_segment};
use super::{IdpSource, ValueSource};
use crate::domain::{Export, FieldChoice};
use crate::service::calendly::Secret;
use crate::service::{LoadError, Progress};

pub const GRAPH: &str = "https://graph.microsoft.com";
pub const SCOPE: &str = "https://graph.microsoft.com/.default";

/// The properties asked for; a directory extension named with `--idp-attribute`
/// (`extension_<appid>_<name>`) is asked for too. (Graph refuses a `$select` naming a property
/// it does not have, so nothing else is added.)
pub const SELECT: &[&str] = &[
    "id",
    "mail",
    "userPrincipalName",
    "displayName",
    "givenName",
    "surname",
    "department",
    "jobTitle",
    "companyName",
    "officeLocation",
    "employeeType",
    "employeeId",
    "city",
    "state",
    "country",
    "usageLocation",
    "employeeOrgData",
    "onPremisesExtensionAttributes",
];

#[derive(Clone, Debug)]
pub struct Entra {
    session: Session,
    /// The Calendly enterprise app's service principal (object) id; None reads all users.
    app: Option<String>,
    select: Vec<String>,
    label: String,
}

fn wait(h: &reqwest::header::HeaderMap) -> Option<Duration> {
    retry_after(h)
}

impl Entra {
    fn users_path(&self) -> String {
        format!("/v1.0/users?$select={}&$top={}", self.select.join(","), self.session.api.opts.page_size)
    }

    /// A whole collection from `path`, each page decoded by `decode`.
    async fn collection<T>(
        &self,
        path: &str,
        progress: Option<&Progress>,
        decode: fn(&str, &[u8]) -> Result<wire::Collection<T>, IdpError>,
    ) -> Result<Vec<T>, IdpError> {
        let http = &self.session.api;
        let first = http.url(path)?;
        read_all(http, first, progress, |url| async move {
            let reply = self.get(&url).await?;
            let endpoint = http.endpoint(&url);
            let page = decode(&endpoint, &reply.body).map_err(|e| redacted(http, e))?;
            let next = match page.next_link.filter(|n| !n.trim().is_empty()) {
                Some(n) => Some(url.join(&n).map_err(|e| IdpError::Decode {
                    endpoint: endpoint.clone(),
                    path: "@odata.nextLink".into(),
                    message: format!("not an address ({e})"),
                })?),
                None => None,
            };
            Ok(Page { rows: page.value, next })
        })
        .await
    }

    async fn get(&self, url: &reqwest::Url) -> Result<Reply, IdpError> {
        let (reply, waits) = self.session.get(url, wait).await?;
        if (200..300).contains(&reply.status) {
            return Ok(reply);
        }
        let http = &self.session.api;
        let hint = match reply.status {
            401 => Some(format!(
                "Microsoft Graph refused {}: it is wrong or expired (Graph's tokens last about an hour). Set \
                 AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET so groupmap obtains its own, or give a \
                 new token",
                self.session.token_source()
            )),
            403 => Some(
                "the app registration may not read this: grant it the Microsoft Graph application permission \
                 User.Read.All (with --idp-app also Application.Read.All and GroupMember.Read.All) and an admin's \
                 consent (App registrations → the app → API permissions → Grant admin consent)"
                    .to_owned(),
            ),
            404 if url.path().contains("/servicePrincipals/") => Some(
                "no such service principal: --idp-app is the Calendly enterprise app's Object ID (Enterprise \
                 applications → Calendly → Overview), not its Application (client) ID"
                    .to_owned(),
            ),
            429 => Some(format!("still throttled after waiting {waits} time(s) as Retry-After said; try again later")),
            _ => None,
        };
        Err(status_error(http.endpoint(url), reply.status, &reply.body, &|s| http.redact(s), hint))
    }

    /// The ids of the users assigned to the app, directly or through a group.
    async fn assigned(&self, app: &str) -> Result<HashSet<String>, IdpError> {
        let path = format!("/v1.0/servicePrincipals/{}/appRoleAssignedTo?$top=999", url_segment(app));
        let assignments: Vec<wire::Assignment> = self.collection(&path, None, wire::decode).await?;
        let mut ids = HashSet::new();
        for a in assignments {
            let (Some(id), Some(kind)) = (a.principal_id, a.principal_type) else { continue };
            if kind.eq_ignore_ascii_case("User") {
                ids.insert(id);
            } else if kind.eq_ignore_ascii_case("Group") {
                let path = format!(
                    "/v1.0/groups/{}/transitiveMembers/microsoft.graph.user?$select=id&$top=999",
                    url_segment(&id)
                );
                let members: Vec<wire::Member> = self.collection(&path, None, wire::decode).await?;
                ids.extend(members.into_iter().filter_map(|m| m.id));
            }
        }
        Ok(ids)
    }
}

fn redacted(http: &Http, e: IdpError) -> IdpError {
    match e {
        IdpError::Decode { endpoint, path, message } => {
            IdpError::Decode { endpoint, path: http.redact(&path), message: http.redact(&message) }
        }
        other => other,
    }
}

impl ValueSource for Entra {
    fn describe(&self) -> String {
        let path = match &self.app {
            Some(app) => format!("/v1.0/servicePrincipals/{app}/appRoleAssignedTo, /v1.0/users"),
            None => "/v1.0/users".to_owned(),
        };
        format!("{} (GET {path})", self.label)
    }

    fn provider(&self) -> Option<String> {
        Some(self.label.clone())
    }

    fn read_with_progress<'a>(
        &'a self,
        _organization: &'a str,
        progress: Option<&'a Progress>,
    ) -> BoxFuture<'a, Result<Vec<Export>, LoadError>> {
        async move {
            let assigned = match &self.app {
                Some(app) => Some(self.assigned(app).await?),
                None => None,
            };
            let path = self.users_path();
            let users: Vec<Map<String, Value>> = self.collection(&path, progress, wire::decode_users).await?;
            Ok(vec![users_table(&self.describe(), users, assigned.as_ref())])
        }
        .boxed()
    }
}

/// The users as one table (only those in `assigned`, when given).
pub fn users_table(source: &str, users: Vec<Map<String, Value>>, assigned: Option<&HashSet<String>>) -> Export {
    let rows = users
        .iter()
        .filter(|u| assigned.is_none_or(|ids| u.get("id").and_then(Value::as_str).is_some_and(|id| ids.contains(id))))
        .map(|u| (wire::user_name(u), attributes(u, "graph")))
        .collect();
    table(source, rows)
}

/// Entra ID from the settings: Graph's URL (`--idp-url`, default Microsoft's), and client
/// credentials or an access token from the environment or owner-only files.
pub fn open(s: &Settings, env: &dyn Fn(&str) -> Option<String>) -> Result<IdpSource, IdpError> {
    let url = s.url.as_deref().unwrap_or(GRAPH);
    let opts = s.http.clone().unwrap_or(HttpOptions { page_size: 999, ..HttpOptions::default() });
    let secret = env_or_file(env, "AZURE_CLIENT_SECRET", s.client_secret_file.as_deref(), "client-secret")?;
    let tenant = env_or(env, "AZURE_TENANT_ID", s.tenant.as_ref());
    let (credentials, token, label) = if let Some((secret, secret_source)) = secret {
        let client_id = env_or(env, "AZURE_CLIENT_ID", s.client_id.as_ref()).ok_or_else(|| {
            IdpError::Settings(
                "--idp entra needs the app registration's Application (client) ID: set AZURE_CLIENT_ID (or client_id \
                 in [idp])"
                    .to_owned(),
            )
        })?;
        let token_url = match (&s.token_url, &tenant) {
            (Some(u), _) => u.clone(),
            (None, Some(t)) => format!("https://login.microsoftonline.com/{}/oauth2/v2.0/token", url_segment(t)),
            (None, None) => {
                return Err(IdpError::Settings(
                    "--idp entra needs the Directory (tenant) ID: set AZURE_TENANT_ID (or tenant in [idp])".to_owned(),
                ));
            }
        };
        let endpoint = Http::anonymous(&token_url, "--idp-token-url", opts.clone())?;
        let token_at =
            reqwest::Url::parse(&token_url).map_err(|e| IdpError::Settings(format!("--idp-token-url: {e}")))?;
        let source = format!("AZURE_CLIENT_ID and {secret_source}");
        let fix = "check the Application (client) ID and the tenant, and that the client secret has not expired \
                   (App registrations → the app → Certificates & secrets: create a new one)"
            .to_owned();
        let c =
            ClientCredentials::new(endpoint, token_at, client_id, secret, Request::Form { scope: SCOPE }, source, fix);
        // Replaced by the first token obtained, before any request.
        (Credentials::Client(Box::new(c)), Secret::new(String::new()), tenant.clone())
    } else if let Some((token, source)) =
        env_or_file(env, "AZURE_ACCESS_TOKEN", s.access_token_file.as_deref(), "access-token")?
    {
        (Credentials::Given { source }, token, tenant.clone())
    } else {
        return Err(IdpError::Settings(
            "--idp entra needs credentials: set AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET (an app \
             registration's client secret; or client_secret_file in [idp]), or AZURE_ACCESS_TOKEN (a Microsoft Graph \
             access token; or access_token_file in [idp])"
                .to_owned(),
        ));
    };
    let api = Http::new(url, "--idp-url", Auth { scheme: "Bearer", token }, opts)?;
    // A tenant id (a GUID) by its start, as the header has little room; a domain as it is.
    let tenant_shown = label.map(|t| if t.contains('.') { t } else { t.chars().take(8).collect() });
    let label = format!("Entra ID {}", tenant_shown.unwrap_or_else(|| api.host()));
    let mut select: Vec<String> = SELECT.iter().map(|s| (*s).to_owned()).collect();
    if let Some(root) = s.attribute.as_deref().and_then(|a| a.split('.').next()).map(str::trim)
        && root.starts_with("extension_")
        && !select.iter().any(|p| p.eq_ignore_ascii_case(root))
        && root.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    {
        select.push(root.to_owned());
    }
    let entra = Entra { session: Session { api, credentials }, app: s.app.clone(), select, label: label.clone() };
    Ok(IdpSource {
        provider: label,
        fields: FieldChoice {
            email: Some(USER_NAME.to_owned()),
            idp_value: s.attribute.clone(),
            ..FieldChoice::default()
        },
        source: std::sync::Arc::new(entra),
    })
}
