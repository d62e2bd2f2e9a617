//! The Signing Today dialect's part of `/openapi.json`, derived (utoipa) from the handlers'
//! annotations and the [`crate::wire`] types. Every route takes a bearer token (an OAuth
//! access token or a robot's API token).

use paraf_http::openapi::OpenApi;
use serde_json::json;

/// The routes behind a token, and the schemas.
#[derive(utoipa::OpenApi)]
#[openapi(paths(
    crate::auth::user,
    crate::auth::logout,
    crate::dsts::list,
    crate::dsts::create,
    crate::dsts::robot_create,
    crate::dsts::show,
    crate::dsts::delete,
    crate::dsts::publish,
    crate::dsts::signing_address,
    crate::activity::notes,
    crate::activity::add_note,
    crate::activity::change_note,
    crate::activity::delete_note,
    crate::activity::audit,
    crate::activity::notify,
    crate::resources::download,
    crate::lifecycle::replace_draft,
    crate::lifecycle::fill,
    crate::lifecycle::modify,
    crate::lifecycle::clone,
    crate::lifecycle::templatize,
    crate::lifecycle::instantiate,
    crate::lifecycle::replace,
    crate::lifecycle::robot_instantiate,
    crate::bulk::instantiate_by_file,
    crate::bulk::groups,
    crate::bulk::template_by_file,
    crate::robots::token,
    crate::robots::revoke,
    crate::robots::configuration,
    crate::robots::configure,
    crate::resources::dst_zip,
    crate::resources::group_zip,
    crate::resources::thumbs,
    crate::documents::add,
    crate::documents::remove,
    crate::documents::swap,
    crate::documents::replace_file,
    crate::documents::describe,
    crate::users::list,
    crate::users::create,
    crate::users::show,
    crate::users::change,
    crate::users::enable,
    crate::users::role,
    crate::users::groups,
    crate::users::create_groups,
    crate::services::reset,
    crate::services::change_own,
    crate::services::token,
    crate::services::change_for,
    crate::devices::list,
    crate::devices::challenge,
    crate::devices::remove,
    crate::devices::notifications,
    crate::devices::consume,
    crate::devices::set_push_token,
    crate::devices::remove_push_token,
    crate::identities::list,
    crate::identities::get_appearance,
    crate::identities::set_appearance,
    crate::identities::remove_appearance
))]
#[openapi(components(schemas(
    crate::wire::ErrorResponse,
    crate::wire::Dst,
    crate::wire::DstStatusChanged,
    crate::wire::UserGroup
)))]
struct Api;

/// The routes without a token (the seed's samples send none).
#[derive(utoipa::OpenApi)]
#[openapi(paths(
    crate::services::password_lost,
    crate::services::change_with_token,
    crate::services::configuration,
    crate::devices::pair,
    crate::auth::saml
))]
struct Public;

/// Adds the Signing Today paths and schemas to `doc`.
pub fn add_to(doc: &mut OpenApi) {
    use utoipa::OpenApi as _;
    let v = serde_json::to_value(Api::openapi()).unwrap_or_default();
    doc.merge_derived(v, Some(json!([{"apiToken": []}])));
    let v = serde_json::to_value(Public::openapi()).unwrap_or_default();
    doc.merge_derived(v, Some(json!([])));
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn every_route_is_described() {
        let mut doc = OpenApi::for_dialect("http://127.0.0.1:8080", "signingtoday");
        add_to(&mut doc);
        let v = doc.to_value();
        for (path, method) in [
            ("/api/auth/user", "get"),
            ("/api/auth/logout", "get"),
            ("/api/auth/saml", "post"),
            ("/api/DSTs", "get"),
            ("/api/DSTs", "post"),
            ("/api/robot/DSTs", "post"),
            ("/api/DST/{id}", "get"),
            ("/api/DST/{id}", "delete"),
            ("/api/DST/{id}/publish", "post"),
            ("/api/DST/{id}/sign/{docId}/{signId}", "get"),
            ("/api/DST/{id}/note", "get"),
            ("/api/DST/{id}/note", "post"),
            ("/api/DST/{id}/note/{noteId}", "put"),
            ("/api/DST/{id}/note/{noteId}", "delete"),
            ("/api/DST/{id}/audit", "get"),
            ("/api/DST/{id}/notify", "post"),
            ("/api/resource/{id}", "get"),
            ("/api/DST/{id}", "put"),
            ("/api/DST/{id}/fill", "patch"),
            ("/api/DST/{id}/modify", "post"),
            ("/api/DST/{id}/clone", "post"),
            ("/api/DST/{id}/templatize", "post"),
            ("/api/DST/{id}/instantiate", "post"),
            ("/api/DST/{id}/replace", "post"),
            ("/api/robot/DST/{id}/instantiate", "post"),
            ("/api/DST/{id}/instantiate/byFile", "post"),
            ("/api/DSTs/byFile", "get"),
            ("/api/DSTs/byFile", "post"),
            ("/api/robot/authentication", "get"),
            ("/api/robot/authentication", "delete"),
            ("/api/robot/configuration", "get"),
            ("/api/robot/configuration", "put"),
            ("/api/DST/{id}/resources", "get"),
            ("/api/DSTs/instantiationGroup/{id}/resources", "get"),
            ("/api/pdfResource/{id}/thumbs", "get"),
            ("/api/DST/{id}/resources", "patch"),
            ("/api/DST/resource/{id}", "delete"),
            ("/api/DST/{id}/doc/{docId}/swap", "post"),
            ("/api/DST/{id}/doc/{docId}/resource", "post"),
            ("/api/resource/{id}", "put"),
            ("/api/users", "get"),
            ("/api/users", "post"),
            ("/api/users/groups", "get"),
            ("/api/users/groups", "post"),
            ("/api/user/{id}", "get"),
            ("/api/user/{id}", "put"),
            ("/api/user/{id}", "delete"),
            ("/api/user/{id}/role", "put"),
            ("/api/auth/passwordReset", "get"),
            ("/api/auth/passwordReset", "post"),
            ("/api/auth/passwordToken", "get"),
            ("/api/service/changePassword", "post"),
            ("/api/auth/passwordLost", "get"),
            ("/api/auth/changePassword", "post"),
            ("/api/devices", "get"),
            ("/api/device/authorization", "get"),
            ("/api/device/authorization", "post"),
            ("/api/device/authorization", "delete"),
            ("/api/notifications/dsts", "get"),
            ("/api/notifications/dst/{id}", "delete"),
            ("/api/notifications/push-token", "post"),
            ("/api/notifications/push-token", "delete"),
            ("/api/user/{id}/identities", "get"),
            ("/api/service/configuration", "get"),
            ("/api/user/{id}/identity/{identity-id}/appearance", "get"),
            ("/api/user/{id}/identity/{identity-id}/appearance", "post"),
            ("/api/user/{id}/identity/{identity-id}/appearance", "delete"),
        ] {
            assert!(v["paths"][path][method].is_object(), "{path} {method}");
        }
        let dst = &v["components"]["schemas"]["Dst"]["properties"];
        assert!(dst["signerGroups"].is_null() && dst["createdByUser"].is_object());
    }
}
