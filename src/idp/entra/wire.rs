//! Microsoft Graph's answers as its reference describes them: a collection is
//! `{"@odata.context", "value": [...], "@odata.nextLink": "<the next page's full URL>"}`; a user
//! is an object of the properties `$select` asked for (`onPremisesExtensionAttributes` nested,
//! directory extensions as `extension_<appid>_<name>`); an app role assignment has
//! `principalType` (`User`, `Group`, `ServicePrincipal`) and `principalId`. Errors are
//! `{"error": {"code", "message", "innerError"}}` (read by `idp::error::error_fields`).

use serde::Deserialize;
use serde_json::{Map, Value};

use crate::idp::error::IdpError;

#[derive(Debug, Deserialize)]
pub struct Collection<T> {
    pub value: Vec<T>,
    #[serde(default, rename = "@odata.nextLink")]
    pub next_link: Option<String>,
}

/// An app role assignment (`GET /servicePrincipals/{id}/appRoleAssignedTo`); other keys ignored.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Assignment {
    #[serde(default)]
    pub principal_id: Option<String>,
    #[serde(default)]
    pub principal_type: Option<String>,
}

/// A member of a group, only its id kept.
#[derive(Debug, Deserialize)]
pub struct Member {
    #[serde(default)]
    pub id: Option<String>,
}

/// A page of a collection; errors name the endpoint and the field (`value[3].principalId`).
pub fn decode<T: serde::de::DeserializeOwned>(endpoint: &str, body: &[u8]) -> Result<Collection<T>, IdpError> {
    crate::idp::error::decode_json(endpoint, body, "a collection: {\"value\": [...]}")
}

/// A page of users.
pub fn decode_users(endpoint: &str, body: &[u8]) -> Result<Collection<Map<String, Value>>, IdpError> {
    decode(endpoint, body)
}

/// The login email Entra ID sends Calendly as `userName`: `mail`, or where it is empty the
/// `userPrincipalName`.
pub fn user_name(user: &Map<String, Value>) -> String {
    let get = |k: &str| user.get(k).and_then(Value::as_str).map(str::trim).filter(|v| !v.is_empty());
    get("mail").or_else(|| get("userPrincipalName")).unwrap_or_default().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_of_users_and_its_next_link() {
        let body = br#"{"@odata.context":"https://graph.microsoft.com/v1.0/$metadata#users(id,mail)","@odata.nextLink":"https://graph.microsoft.com/v1.0/users?$select=id,mail&$top=2&$skiptoken=X","value":[{"id":"1","mail":null,"userPrincipalName":"a@x.onmicrosoft.com"},{"id":"2","mail":"B@x.com","userPrincipalName":"b@x.onmicrosoft.com"}]}"#;
        let page = decode_users("GET /v1.0/users", body).unwrap();
        assert_eq!(page.value.len(), 2);
        assert!(page.next_link.unwrap().ends_with("$skiptoken=X"));
        assert_eq!(user_name(&page.value[0]), "a@x.onmicrosoft.com", "no mail: the UPN");
        assert_eq!(user_name(&page.value[1]), "B@x.com");
        let err = decode_users("GET /v1.0/users", br#"{"value":{}}"#).unwrap_err().to_string();
        assert!(err.contains("at value:"), "{err}");
    }
}
