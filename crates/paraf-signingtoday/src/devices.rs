//! Trusted devices and notifications (`/devices`, `/device/authorization`,
//! `/notifications/…`) on the core's devices: a signed-in user asks for a pairing challenge
//! (JSON, or a QR code when asked as `image/png`); the app posts it back without a token and
//! gets the user's device token; notifications list the DSTs awaiting the user and the outcome
//! of theirs.

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use paraf_core::audit::{Actor, Face};
use paraf_core::domain::Capability;
use paraf_http::state::AppState;
use serde::Deserialize;

use crate::dsts::{find, Paging};
use crate::error::StError;
use crate::wire::{
    DeviceAuthorization, DeviceList, NotificationEvent, NotificationList, PageParams, PairInput,
    PushTokenInput, Refused, TrustedDevice,
};
use crate::{time, user_of_uuid, user_uuid, Caller};

/// A user named by `userId` (the caller when absent); another's needs `cap`.
fn whose(
    caller: &Caller,
    user_id: Option<&str>,
    cap: Capability,
) -> Result<paraf_core::domain::UserId, StError> {
    match user_id.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(caller.user),
        Some(s) => {
            let id = user_of_uuid(s)
                .ok_or_else(|| StError::invalid("userId", "userId is not a user's UUID"))?;
            if id != caller.user {
                caller.require(cap)?;
            }
            Ok(id)
        }
    }
}

/// The trusted devices of a user (the caller's without `userId`; another's needs
/// `devices.list.all`), oldest first, with `$top`, `$skip`, `$count`.
#[utoipa::path(get, path = "/api/devices", tag = "signingtoday",
    params(
        ("userId" = Option<String>, Query, description = "Whose devices (default: the caller's)"),
        PageParams,
    ),
    responses((status = 200, body = DeviceList), Refused))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<Vec<(String, String)>>,
) -> Result<Response, StError> {
    let paging = Paging::of(&params)?;
    let user_id = params
        .iter()
        .find(|(k, _)| k == "userId")
        .map(|(_, v)| v.as_str());
    let user = whose(&caller, user_id, Capability::DevicesListAll)?;
    state
        .core
        .user(caller.org, user)
        .await
        .map_err(|_| StError::not_found("userId", "user"))?;
    let (list, total) = state
        .core
        .user_devices(caller.org, user, (paging.skip, paging.top))
        .await?;
    let values = list
        .into_iter()
        .map(|d| TrustedDevice {
            user_id: user_uuid(d.user),
            device_id: d.device_id,
            name: d.name,
            registered_at: time(d.registered_at),
        })
        .collect();
    Ok(Json(DeviceList {
        count: paging.count.then_some(total),
        values,
    })
    .into_response())
}

/// A QR code of `text` as a PNG (8 pixels a module, a quiet zone of 4 modules).
fn qr_png(text: &str) -> Result<Vec<u8>, StError> {
    let code = qrcode::QrCode::new(text.as_bytes()).map_err(StError::internal)?;
    let n = code.width();
    let colors = code.to_colors();
    let (scale, quiet) = (8u32, 4u32);
    let side = (u32::try_from(n).unwrap_or(0) + 2 * quiet) * scale;
    let img = image::GrayImage::from_fn(side, side, |x, y| {
        let (mx, my) = (x / scale, y / scale);
        let dark = mx >= quiet
            && my >= quiet
            && (mx - quiet) < n as u32
            && (my - quiet) < n as u32
            && colors[((my - quiet) as usize) * n + (mx - quiet) as usize] == qrcode::Color::Dark;
        image::Luma([if dark { 0 } else { 255 }])
    });
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png)
        .map_err(StError::internal)?;
    Ok(out.into_inner())
}

/// A new pairing challenge for the caller (valid 10 minutes; a new one cancels the last): as
/// JSON, or as a QR code of that JSON when asked with `Accept: image/png`.
#[utoipa::path(get, path = "/api/device/authorization", tag = "signingtoday",
    responses((status = 200, body = DeviceAuthorization,
        description = "The challenge (or, with Accept: image/png, a QR code of this JSON)"), Refused))]
pub async fn challenge(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
) -> Result<Response, StError> {
    let challenge = state
        .core
        .device_challenge(caller.org, caller.user, &caller.actor)
        .await?;
    let reply = DeviceAuthorization {
        user_id: user_uuid(caller.user),
        base_url: format!("{}/api", state.core.public_url),
        challenge,
    };
    let wants_png = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("image/png") && !a.contains("application/json"));
    if wants_png {
        let text = serde_json::to_string(&reply).map_err(StError::internal)?;
        let png = qr_png(&text)?;
        return Ok((
            [
                (header::CONTENT_TYPE, HeaderValue::from_static("image/png")),
                (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
            ],
            png,
        )
            .into_response());
    }
    Ok((
        [(header::CACHE_CONTROL, HeaderValue::from_static("no-store"))],
        Json(reply),
    )
        .into_response())
}

/// The app pairs the device with a challenge (no token: the challenge is the credential):
/// `["<device token>"]`, the user's API token for this device (re-pairing the same
/// `deviceId` renames it and rotates the token).
#[utoipa::path(post, path = "/api/device/authorization", tag = "signingtoday",
    request_body(content = PairInput, content_type = "application/json"),
    responses((status = 200, description = "The device's token, in a list", body = [String]), Refused))]
pub async fn pair(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Response, StError> {
    let input: PairInput = serde_json::from_slice(&body)
        .map_err(|e| StError::invalid("body", format!("the body is not a device ({e})")))?;
    let challenge = StError::required(&input.challenge, "challenge")?;
    let device_id = StError::required(&input.device_id, "deviceId")?;
    let name = StError::required(&input.name, "name")?;
    let mut actor = Actor::new("device", Face::SigningToday);
    actor.user_agent = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(|s| s.chars().take(200).collect());
    let (_, token) = state
        .core
        .pair_device(&challenge, &device_id, &name, &actor)
        .await?;
    Ok((
        [(header::CACHE_CONTROL, HeaderValue::from_static("no-store"))],
        Json(vec![token]),
    )
        .into_response())
}

/// `?deviceId=…&userId=…`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct DeviceQuery {
    /// The device.
    #[serde(rename = "deviceId")]
    pub device_id: Option<String>,
    /// Its user (default: the caller; another's needs devices.delete.all).
    #[serde(rename = "userId")]
    pub user_id: Option<String>,
}

/// "Not found" for a missing device names `deviceId`.
fn no_device(what: &'static str) -> impl Fn(paraf_core::CoreError) -> StError {
    move |e| match StError::from(e) {
        x if x.status == StatusCode::NOT_FOUND => StError::not_found("deviceId", what),
        x => x,
    }
}

fn device_id(q: &Option<String>) -> Result<&str, StError> {
    q.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| StError::invalid("deviceId", "deviceId is required"))
}

/// Removes a trusted device: its token stops working, its push token is forgotten. 204.
#[utoipa::path(delete, path = "/api/device/authorization", tag = "signingtoday", params(DeviceQuery),
    responses((status = 204, description = "Removed"), Refused))]
pub async fn remove(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<DeviceQuery>,
) -> Result<Response, StError> {
    let id = device_id(&q.device_id)?;
    let owner = whose(&caller, q.user_id.as_deref(), Capability::DevicesDeleteAll)?;
    state
        .core
        .remove_device(&caller.me, owner, id, &caller.actor)
        .await
        .map_err(no_device("device"))?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Registers the push token of one of the caller's trusted devices. 204.
#[utoipa::path(post, path = "/api/notifications/push-token", tag = "signingtoday",
    request_body(content = PushTokenInput, content_type = "application/json"),
    responses((status = 204, description = "Registered"), Refused))]
pub async fn set_push_token(
    State(state): State<AppState>,
    caller: Caller,
    body: axum::body::Bytes,
) -> Result<Response, StError> {
    let input: PushTokenInput = serde_json::from_slice(&body)
        .map_err(|e| StError::invalid("body", format!("the body is not a push token ({e})")))?;
    let id = device_id(&input.device_id)?;
    let token = input
        .token
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| StError::invalid("token", "token is required"))?;
    state
        .core
        .set_push_token(caller.org, caller.user, id, token, &caller.actor)
        .await
        .map_err(no_device("trusted device"))?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Forgets the push token of one of the caller's devices. 204.
#[utoipa::path(delete, path = "/api/notifications/push-token", tag = "signingtoday", params(DeviceQuery),
    responses((status = 204, description = "Removed"), Refused))]
pub async fn remove_push_token(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<DeviceQuery>,
) -> Result<Response, StError> {
    let id = device_id(&q.device_id)?;
    state
        .core
        .remove_push_token(caller.org, caller.user, id, &caller.actor)
        .await
        .map_err(no_device("trusted device"))?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// The caller's latest notifications for DSTs, newest first (`$top`, `$skip`, `$count`):
/// those awaiting their signature (`dst_alert_sign`) and the outcome of those they made.
#[utoipa::path(get, path = "/api/notifications/dsts", tag = "signingtoday",
    params(PageParams),
    responses((status = 200, body = NotificationList), Refused))]
pub async fn notifications(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<Vec<(String, String)>>,
) -> Result<Response, StError> {
    let paging = Paging::of(&params)?;
    let all = state.core.notifications(&caller.me, crate::FACE).await?;
    let count = paging.count.then_some(all.len() as u64);
    let values = all
        .into_iter()
        .skip(usize::try_from(paging.skip).unwrap_or(usize::MAX))
        .take(paging.top as usize)
        .map(|n| {
            let who = n.author.as_ref().unwrap_or(&caller.me);
            NotificationEvent {
                id: n.envelope.id.0,
                time: time(n.at),
                dst_id: n.envelope.uuid.clone(),
                user_id: user_uuid(caller.user),
                event: n.event.to_string(),
                dst_title: n.envelope.header.title.clone(),
                username: who.login_name().to_string(),
                email: who.email.as_str().to_string(),
            }
        })
        .collect();
    Ok(Json(NotificationList { count, values }).into_response())
}

/// The caller consumed every active notification of a DST (they leave the list until
/// something new happens). 204.
#[utoipa::path(delete, path = "/api/notifications/dst/{id}", tag = "signingtoday",
    params(("id" = String, Path, description = "The DST's UUID")),
    responses((status = 204, description = "Consumed"), Refused))]
pub async fn consume(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, StError> {
    let e = find(&state, &caller, &id).await?;
    state
        .core
        .consume_notifications(&caller.me, &e, &caller.actor)
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
