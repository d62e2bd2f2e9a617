//! Users and groups (`/users`, `/users/groups`, `/user/{id}`, `/user/{id}/role`) on the
//! core's people. Who may do what follows the seed's roles and capabilities (see
//! docs/signingtoday.md, "Roles"): anyone reads themselves and the groups; `user.access.all`
//! reads everyone; `user.create.all` makes users and groups and changes roles;
//! `user.delete.all` changes, enables and disables other users. Ids of another organisation
//! are "not found".

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use paraf_core::domain::{
    Capability, Email, Group, GroupId, OrgId, Password, PersonName, Role, User as CoreUser, UserId,
    UserProfile, USER_LANGUAGES,
};
use paraf_core::people::{NewPerson, People, PersonChange};
use paraf_http::state::AppState;
use serde_json::{json, Map, Value};

use crate::dsts::Paging;
use crate::error::StError;
use crate::wire::{
    EnabledQuery, GroupInput, GroupList, ListParams, NewUserInput, Refused, RoleQuery, User,
    UserGroup, UserInput, UserList, UserPath,
};
use crate::{time, user_of_uuid, user_uuid, Caller};

/// The keys of a user's face data (`profile.extra`).
const SURNAME: &str = "surname";
const EXTRA_DATA: &str = "extraData";
const TEMPLATE_DATA: &str = "templateData";

/// A user's name and surname as the API shows them: the surname kept when the user was made
/// through this API, else the last word of the full name.
fn split_name(u: &CoreUser) -> (String, String) {
    let full = u.name.as_str().trim();
    if let Some(s) = u.profile.extra.get(SURNAME).and_then(Value::as_str) {
        if let Some(given) = full.strip_suffix(s) {
            return (given.trim().to_string(), s.to_string());
        }
    }
    match full.rsplit_once(' ') {
        Some((n, s)) => (n.to_string(), s.to_string()),
        None => (full.to_string(), String::new()),
    }
}

/// The user as the seed shows one.
pub(crate) fn view(u: &CoreUser, domain: &str, groups: &[&Group]) -> User {
    let (name, surname) = split_name(u);
    let data = |k: &str| {
        u.profile
            .extra
            .get(k)
            .filter(|v| v.is_object())
            .cloned()
            .unwrap_or_else(|| json!({}))
    };
    User {
        id: user_uuid(u.id),
        username: u.login_name().to_string(),
        domain: domain.to_string(),
        language: u
            .profile
            .language
            .clone()
            .filter(|l| ["it", "en", "es", "fr"].contains(&l.as_str()))
            .unwrap_or_else(|| "en".into()),
        name,
        surname,
        email: u.email.as_str().to_string(),
        phone: u.profile.phone.clone(),
        role: u.role.as_str().into(),
        groups: groups
            .iter()
            .map(|g| UserGroup {
                id: g.id.0,
                name: g.name.as_str().to_string(),
                domain: domain.to_string(),
            })
            .collect(),
        capabilities: Some(
            u.capabilities()
                .iter()
                .map(|c| c.as_str().to_string())
                .collect(),
        ),
        created_by: u.profile.created_by.map(user_uuid),
        created_at: time(u.created_at),
        deleted_at: u.disabled_at.map(time),
        automatic: u.robot,
        extra_data: data(EXTRA_DATA),
        template_data: data(TEMPLATE_DATA),
    }
}

/// One user of the organisation as the seed shows them.
pub(crate) async fn user_view(state: &AppState, org: OrgId, id: UserId) -> Result<User, StError> {
    let people = state.core.people(org).await?;
    let o = state.core.organisation(org).await?;
    let u = people
        .users
        .iter()
        .find(|u| u.id == id)
        .ok_or_else(|| StError::not_found("id", "user"))?;
    Ok(view(u, o.slug.as_str(), &people.groups_of(id)))
}

/// The user named by the path's `{id}` (a user UUID of the caller's organisation).
async fn target(state: &AppState, caller: &Caller, id: &str) -> Result<CoreUser, StError> {
    let id = user_of_uuid(id).ok_or_else(|| StError::not_found("id", "user"))?;
    state
        .core
        .user(caller.org, id)
        .await
        .map_err(|_| StError::not_found("id", "user"))
}

/// The user of the path, for a caller with `cap`.
async fn acting_on(
    state: &AppState,
    caller: &Caller,
    id: &str,
    cap: Capability,
) -> Result<CoreUser, StError> {
    caller.require(cap)?;
    target(state, caller, id).await
}

/// The value of a list's field for `$filter`.
fn field_of(u: &User, f: &str) -> Option<String> {
    Some(match f {
        "id" => u.id.clone(),
        "username" => u.username.clone(),
        "domain" => u.domain.clone(),
        "language" => u.language.clone(),
        "name" => u.name.clone(),
        "surname" => u.surname.clone(),
        "email" => u.email.clone(),
        "phone" => u.phone.clone().unwrap_or_default(),
        "role" => u.role.clone(),
        "automatic" => u.automatic.to_string(),
        "createdAt" => u.created_at.clone(),
        _ => return None,
    })
}

/// Sorts, filters and pages an in-memory list as `$orderBy`, `$filter`, `$top`, `$skip`,
/// `$count` say.
fn shape<T>(
    mut list: Vec<T>,
    params: &[(String, String)],
    field: impl Fn(&T, &str) -> Option<String>,
) -> Result<(Vec<T>, Option<u64>), StError> {
    let paging = Paging::of(params)?;
    for (k, v) in params {
        match k.as_str() {
            "$filter" => {
                let e = crate::odata::parse(v).map_err(|e| StError::invalid(k, e.0))?;
                let mut kept = Vec::new();
                for x in list {
                    if crate::odata::holds(&e, &|f| field(&x, f))
                        .map_err(|e| StError::invalid(k, e.0))?
                    {
                        kept.push(x);
                    }
                }
                list = kept;
            }
            "$orderBy" => {
                let (name, dir) = v.split_once(',').unwrap_or((v.as_str(), "asc"));
                let name = name.trim();
                if list.first().is_some_and(|x| field(x, name).is_none()) {
                    return Err(StError::invalid(k, format!("cannot order by {name:?}")));
                }
                let desc = match dir.trim().to_ascii_lowercase().as_str() {
                    "asc" => false,
                    "desc" => true,
                    other => {
                        return Err(StError::invalid(k, format!("{other:?} is not asc or desc")))
                    }
                };
                list.sort_by(|a, b| {
                    let o = field(a, name).cmp(&field(b, name));
                    if desc {
                        o.reverse()
                    } else {
                        o
                    }
                });
            }
            _ => {}
        }
    }
    let count = paging.count.then_some(list.len() as u64);
    let page = list
        .into_iter()
        .skip(usize::try_from(paging.skip).unwrap_or(usize::MAX))
        .take(paging.top as usize)
        .collect();
    Ok((page, count))
}

/// The organisation's users (the caller only, without `user.access.all`), with the seed's
/// `$top`, `$skip`, `$count`, `$orderBy` and `$filter` (`username`, `name`, `surname`,
/// `email`, `role`, `language`, `phone`, …).
#[utoipa::path(get, path = "/api/users", tag = "signingtoday",
    params(ListParams),
    responses((status = 200, body = UserList), Refused))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<Vec<(String, String)>>,
) -> Result<Response, StError> {
    let people = state.core.people(caller.org).await?;
    let o = state.core.organisation(caller.org).await?;
    let all = caller.me.can(Capability::UserAccessAll);
    let views: Vec<User> = people
        .users
        .iter()
        .filter(|u| all || u.id == caller.user)
        .map(|u| view(u, o.slug.as_str(), &people.groups_of(u.id)))
        .collect();
    let (values, count) = shape(views, &params, field_of)?;
    Ok(Json(UserList { count, values }).into_response())
}

/// A text field of the body: trimmed, `None` when absent, null or empty.
fn text(v: &Option<Value>, target: &str) -> Result<Option<String>, StError> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.trim().to_string())),
        Some(Value::Number(n)) => Ok(Some(n.to_string())),
        Some(_) => Err(StError::invalid(target, format!("{target} must be a text"))),
    }
}

/// What a user body says, checked: name, e-mail, role, profile and groups.
struct Parsed {
    name: PersonName,
    email: Email,
    role: Option<Role>,
    profile: UserProfile,
    groups: Option<Vec<GroupId>>,
    automatic: bool,
}

/// Reads a user body (`POST /users`' `user`, `PUT /user/{id}`), fields named under `at`;
/// absent fields keep `base`'s values.
fn parse_user(
    u: &UserInput,
    at: &str,
    domain: &str,
    base: Option<&CoreUser>,
    people: &People,
) -> Result<Parsed, StError> {
    let t = |f: &str| format!("{at}{f}");
    if let Some(d) = text(&u.domain, &t("domain"))? {
        if !d.eq_ignore_ascii_case(domain) {
            return Err(StError::invalid(
                &t("domain"),
                format!("the domain is the caller's organisation ({domain})"),
            ));
        }
    }
    let (base_name, base_surname) = base.map(split_name).unwrap_or_default();
    let given = text(&u.name, &t("name"))?.unwrap_or(base_name);
    let surname = text(&u.surname, &t("surname"))?.unwrap_or(base_surname);
    let full = format!("{given} {surname}");
    let name = PersonName::parse(full.trim())
        .map_err(|_| StError::invalid(&t("name"), "name and surname are required"))?;
    let email = match text(&u.email, &t("email"))? {
        Some(e) => Email::parse(&e).map_err(|e| StError::invalid(&t("email"), e.to_string()))?,
        None => base
            .map(|b| b.email.clone())
            .ok_or_else(|| StError::invalid(&t("email"), "email is required"))?,
    };
    let role = match text(&u.role, &t("role"))? {
        Some(r) => Some(Role::parse(&r).map_err(|_| {
            StError::invalid(
                &t("role"),
                format!("role {r:?} is not admin, instructor or signer"),
            )
        })?),
        None => None,
    };
    let mut profile = base.map(|b| b.profile.clone()).unwrap_or_default();
    if let Some(username) = text(&u.username, &t("username"))? {
        if username.len() > 100
            || username.contains('@')
            || username
                .chars()
                .any(|c| c.is_whitespace() || c.is_control())
        {
            return Err(StError::invalid(
                &t("username"),
                "a username has no spaces and no '@' (at most 100 characters)",
            ));
        }
        profile.username = Some(username);
    }
    if let Some(lang) = text(&u.language, &t("language"))? {
        let lang = lang.to_ascii_lowercase();
        if !USER_LANGUAGES.contains(&lang.as_str()) {
            return Err(StError::invalid(
                &t("language"),
                format!("language {lang:?} is not it, en, es or fr"),
            ));
        }
        profile.language = Some(lang);
    }
    if let Some(phone) = text(&u.phone, &t("phone"))? {
        if phone.len() > 32
            || !phone
                .chars()
                .all(|c| c.is_ascii_digit() || "+ -().".contains(c))
        {
            return Err(StError::invalid(
                &t("phone"),
                "a phone number has digits and + only",
            ));
        }
        profile.phone = Some(phone);
    }
    match &u.capabilities {
        None | Some(Value::Null) => {}
        Some(Value::Array(list)) => {
            let mut caps = Vec::new();
            for (i, c) in list.iter().enumerate() {
                let s = c.as_str().unwrap_or_default();
                caps.push(Capability::parse(s).map_err(|_| {
                    StError::invalid(
                        &t(&format!("capabilities[{i}]")),
                        format!("{c} is not a capability of the seed"),
                    )
                })?);
            }
            caps.sort();
            caps.dedup();
            profile.capabilities = Some(caps);
        }
        Some(_) => {
            return Err(StError::invalid(
                &t("capabilities"),
                "capabilities is a list of names",
            ))
        }
    }
    let mut extra = match profile.extra.clone() {
        Value::Object(m) => m,
        _ => Map::new(),
    };
    extra.insert(SURNAME.into(), Value::String(surname));
    for (key, v) in [
        (EXTRA_DATA, &u.extra_data),
        (TEMPLATE_DATA, &u.template_data),
    ] {
        match v {
            None | Some(Value::Null) => {}
            Some(Value::Object(o)) => {
                extra.insert(key.into(), Value::Object(o.clone()));
            }
            Some(_) => return Err(StError::invalid(&t(key), format!("{key} is an object"))),
        }
    }
    profile.extra = Value::Object(extra);
    let groups = match &u.groups {
        None | Some(Value::Null) => None,
        Some(Value::Array(list)) => {
            let mut ids = Vec::new();
            for (i, g) in list.iter().enumerate() {
                let at = t(&format!("groups[{i}]"));
                let found = match (g.get("id").and_then(Value::as_i64), g.get("name")) {
                    (Some(id), _) => people.groups.iter().find(|x| x.id.0 == id),
                    (None, Some(Value::String(n))) => {
                        people.groups.iter().find(|x| x.name.as_str() == n.trim())
                    }
                    _ => {
                        return Err(StError::invalid(
                            &at,
                            "a group is named by its id or its name",
                        ))
                    }
                };
                let g = found.ok_or_else(|| {
                    StError::invalid(
                        &at,
                        "no such group in the organisation (make it with POST /users/groups)",
                    )
                })?;
                ids.push(g.id);
            }
            Some(ids)
        }
        Some(_) => return Err(StError::invalid(&t("groups"), "groups is a list")),
    };
    let automatic = match &u.automatic {
        None | Some(Value::Null) => base.is_some_and(|b| b.robot),
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) if s.eq_ignore_ascii_case("true") => true,
        Some(Value::String(s)) if s.eq_ignore_ascii_case("false") => false,
        Some(_) => {
            return Err(StError::invalid(
                &t("automatic"),
                "automatic is true or false",
            ))
        }
    };
    Ok(Parsed {
        name,
        email,
        role,
        profile,
        groups,
        automatic,
    })
}

/// Makes a user (`user.create.all`): `201 ["<id>"]`. Without `password` the user is mailed
/// a link to choose one. `automatic: true` makes a robot (a service account: no password,
/// a lifetime token from `GET /robot/authentication`).
#[utoipa::path(post, path = "/api/users", tag = "signingtoday",
    request_body(content = NewUserInput, content_type = "application/json"),
    responses((status = 201, description = "The new user's id, in a list", body = [String]), Refused))]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    body: axum::body::Bytes,
) -> Result<Response, StError> {
    caller.require(Capability::UserCreateAll)?;
    let input: NewUserInput = serde_json::from_slice(&body)
        .map_err(|e| StError::invalid("body", format!("the body is not a user ({e})")))?;
    let Some(u) = &input.user else {
        return Err(StError::invalid("user", "user is required"));
    };
    let o = state.core.organisation(caller.org).await?;
    let people = state.core.people(caller.org).await?;
    let mut p = parse_user(u, "user.", o.slug.as_str(), None, &people)?;
    p.profile.created_by = Some(caller.user);
    let password = match text(&input.password, "password")? {
        Some(pw) if !p.automatic => {
            Some(Password::parse(&pw).map_err(|e| StError::invalid("password", e.to_string()))?)
        }
        Some(_) => {
            return Err(StError::invalid(
                "password",
                "a robot (automatic) has no password: it uses its lifetime token",
            ))
        }
        None => None,
    };
    let new = NewPerson {
        name: p.name,
        email: p.email,
        role: p.role.unwrap_or(Role::Signer),
        password,
        profile: p.profile,
        groups: p.groups.unwrap_or_default(),
        robot: p.automatic,
    };
    let user = state
        .core
        .create_person(caller.org, new, &caller.actor)
        .await?;
    Ok((StatusCode::CREATED, Json(vec![user_uuid(user.id)])).into_response())
}

/// A user: the caller, or anyone of the organisation with `user.access.all`.
#[utoipa::path(get, path = "/api/user/{id}", tag = "signingtoday", params(UserPath),
    responses((status = 200, body = User), Refused))]
pub async fn show(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, StError> {
    let u = target(&state, &caller, &id).await?;
    if u.id != caller.user {
        caller.require(Capability::UserAccessAll)?;
    }
    Ok(Json(user_view(&state, caller.org, u.id).await?).into_response())
}

/// Changes a user (the caller themselves, or anyone with `user.delete.all`); a change of
/// `role` or `capabilities` needs `user.create.all`. 204.
#[utoipa::path(put, path = "/api/user/{id}", tag = "signingtoday", params(UserPath),
    request_body(content = UserInput, content_type = "application/json"),
    responses((status = 204, description = "Saved"), Refused))]
pub async fn change(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Result<Response, StError> {
    let u = target(&state, &caller, &id).await?;
    if u.id != caller.user {
        caller.require(Capability::UserDeleteAll)?;
    }
    let input: UserInput = serde_json::from_slice(&body)
        .map_err(|e| StError::invalid("body", format!("the body is not a user ({e})")))?;
    let o = state.core.organisation(caller.org).await?;
    let people = state.core.people(caller.org).await?;
    let p = parse_user(&input, "", o.slug.as_str(), Some(&u), &people)?;
    let role_changes = p.role.is_some_and(|r| r != u.role);
    if role_changes || p.profile.capabilities != u.profile.capabilities {
        caller.require(Capability::UserCreateAll)?;
    }
    if p.automatic != u.robot {
        return Err(StError::invalid(
            "automatic",
            "a person does not become a robot (or back): make a new user",
        ));
    }
    state
        .core
        .change_person(
            caller.org,
            u.id,
            &PersonChange {
                name: p.name,
                email: p.email,
                profile: p.profile,
                groups: p.groups,
            },
            &caller.actor,
        )
        .await?;
    if let Some(role) = p.role.filter(|_| role_changes) {
        state
            .core
            .change_role(caller.org, u.id, role, &caller.actor)
            .await?;
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Enables or disables a user (`user.delete.all`; never oneself): a disabled user's tokens
/// and password stop working at once. 204.
#[utoipa::path(delete, path = "/api/user/{id}", tag = "signingtoday", params(UserPath, EnabledQuery),
    responses((status = 204, description = "Enabled or disabled"), Refused))]
pub async fn enable(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Query(q): Query<EnabledQuery>,
) -> Result<Response, StError> {
    let u = acting_on(&state, &caller, &id, Capability::UserDeleteAll).await?;
    let enabled = match q
        .enabled
        .as_deref()
        .map(str::trim)
        .map(str::to_ascii_lowercase)
    {
        Some(v) if v == "true" => true,
        Some(v) if v == "false" => false,
        _ => return Err(StError::invalid("enabled", "enabled must be true or false")),
    };
    if u.id == caller.user && !enabled {
        return Err(StError::illegal_status(
            "a user does not disable themselves",
        ));
    }
    state
        .core
        .enable_person(caller.org, u.id, enabled, &caller.actor)
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Gives a user another role (`user.create.all`): their capabilities become the role's. 204.
#[utoipa::path(put, path = "/api/user/{id}/role", tag = "signingtoday", params(UserPath, RoleQuery),
    responses((status = 204, description = "Changed"), Refused))]
pub async fn role(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Query(q): Query<RoleQuery>,
) -> Result<Response, StError> {
    let u = acting_on(&state, &caller, &id, Capability::UserCreateAll).await?;
    let role = q
        .new_role
        .as_deref()
        .and_then(|r| Role::parse(r).ok())
        .ok_or_else(|| {
            StError::invalid("newRole", "newRole must be admin, instructor or signer")
        })?;
    state
        .core
        .change_role(caller.org, u.id, role, &caller.actor)
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// The organisation's groups (`$filter` on `name`).
#[utoipa::path(get, path = "/api/users/groups", tag = "signingtoday",
    params(ListParams),
    responses((status = 200, body = GroupList), Refused))]
pub async fn groups(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<Vec<(String, String)>>,
) -> Result<Response, StError> {
    let people = state.core.people(caller.org).await?;
    let o = state.core.organisation(caller.org).await?;
    let views: Vec<UserGroup> = people
        .groups
        .iter()
        .map(|g| UserGroup {
            id: g.id.0,
            name: g.name.as_str().to_string(),
            domain: o.slug.as_str().to_string(),
        })
        .collect();
    let (values, count) = shape(views, &params, |g, f| match f {
        "name" => Some(g.name.clone()),
        "domain" => Some(g.domain.clone()),
        "id" => Some(g.id.to_string()),
        _ => None,
    })?;
    Ok(Json(GroupList { count, values }).into_response())
}

/// Makes groups (`user.create.all`): a JSON list of `{name, domain}`; names that exist are
/// kept. 204.
#[utoipa::path(post, path = "/api/users/groups", tag = "signingtoday",
    request_body(content = [GroupInput], content_type = "application/json"),
    responses((status = 204, description = "Made"), Refused))]
pub async fn create_groups(
    State(state): State<AppState>,
    caller: Caller,
    body: axum::body::Bytes,
) -> Result<Response, StError> {
    caller.require(Capability::UserCreateAll)?;
    let list: Vec<GroupInput> = serde_json::from_slice(&body)
        .map_err(|e| StError::invalid("body", format!("the body is a list of groups ({e})")))?;
    let o = state.core.organisation(caller.org).await?;
    let mut names = Vec::new();
    for (i, g) in list.iter().enumerate() {
        if let Some(d) = g.domain.as_deref().map(str::trim).filter(|d| !d.is_empty()) {
            if !d.eq_ignore_ascii_case(o.slug.as_str()) {
                return Err(StError::invalid(
                    &format!("[{i}].domain"),
                    format!(
                        "the domain is the caller's organisation ({})",
                        o.slug.as_str()
                    ),
                ));
            }
        }
        let name = g.name.as_deref().unwrap_or_default();
        names.push(
            PersonName::parse(name.trim())
                .map_err(|_| StError::invalid(&format!("[{i}].name"), "a group needs a name"))?,
        );
    }
    state
        .core
        .create_groups(caller.org, &names, &caller.actor)
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
