//! The OpenAPI 3.1 document served at `/openapi.json`: the shared routes (operations, PKI,
//! OAuth2 token endpoint, console session, `/api/me`, admin outbox). Written by hand with
//! `serde_json`; each API dialect adds its own paths through [`OpenApi::merge_paths`].

use serde_json::{json, Map, Value};

/// An OpenAPI document being assembled.
#[derive(Debug, Clone)]
pub struct OpenApi {
    doc: Value,
}

fn error_response(description: &str) -> Value {
    json!({
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    })
}

impl OpenApi {
    /// The shared part of the document; `public_url` becomes the server entry.
    pub fn shared(public_url: &str) -> OpenApi {
        let binary = |ctype: &str, description: &str| json!({"description": description, "content": {ctype: {"schema": {"type": "string", "format": "binary"}}}});
        let doc = json!({
            "openapi": "3.1.0",
            "info": {
                "title": "Paraf",
                "version": env!("CARGO_PKG_VERSION"),
                "description": "Self-hosted e-signature server. Shared routes; each API dialect adds its own paths.",
                "license": {"name": "AGPL-3.0-or-later", "identifier": "AGPL-3.0-or-later"}
            },
            "servers": [{"url": public_url}],
            "paths": {
                "/healthz": {"get": {"tags": ["operations"], "summary": "Liveness: the process answers.", "security": [],
                    "responses": {"200": {"description": "alive", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Status"}}}}}}},
                "/readyz": {"get": {"tags": ["operations"], "summary": "Readiness: the database answers.", "security": [],
                    "responses": {"200": {"description": "ready", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Status"}}}},
                                  "503": error_response("the database does not answer")}}},
                "/metrics": {"get": {"tags": ["operations"], "summary": "Prometheus metrics (text format 0.0.4).", "security": [],
                    "responses": {"200": {"description": "metrics", "content": {"text/plain": {"schema": {"type": "string"}}}}}}},
                "/openapi.json": {"get": {"tags": ["operations"], "summary": "This document: every route.", "security": [],
                    "responses": {"200": {"description": "OpenAPI 3.1", "content": {"application/json": {}}}}}},
                "/openapi/{dialect}.json": {"get": {"tags": ["operations"], "summary": "The document of one face (`bsre`, `web`): its routes with the shared components.", "security": [],
                    "parameters": [{"name": "dialect", "in": "path", "required": true, "schema": {"type": "string", "examples": ["bsre"]}}],
                    "responses": {"200": {"description": "OpenAPI 3.1", "content": {"application/json": {}}}, "404": error_response("no such face")}}},
                "/pki/tsa": {"post": {"tags": ["pki"], "summary": "RFC 3161 time-stamping.", "security": [],
                    "requestBody": {"required": true, "content": {"application/timestamp-query": {"schema": {"type": "string", "format": "binary"}}}},
                    "responses": {"200": binary("application/timestamp-reply", "TimeStampResp (refusals too, as RFC 3161 wants)")}}},
                "/pki/ocsp": {"post": {"tags": ["pki"], "summary": "RFC 6960 OCSP.", "security": [],
                    "requestBody": {"required": true, "content": {"application/ocsp-request": {"schema": {"type": "string", "format": "binary"}}}},
                    "responses": {"200": binary("application/ocsp-response", "OCSPResponse")}}},
                "/pki/ocsp/{request}": {"get": {"tags": ["pki"], "summary": "RFC 6960 appendix A OCSP over GET: the DER request, base64, URL-encoded.", "security": [],
                    "parameters": [{"name": "request", "in": "path", "required": true, "schema": {"type": "string"}}],
                    "responses": {"200": binary("application/ocsp-response", "OCSPResponse")}}},
                "/pki/crl/{ca}.crl": {"get": {"tags": ["pki"], "summary": "Current CRL of the root or an issuing CA (DER).", "security": [],
                    "parameters": [{"name": "ca", "in": "path", "required": true, "schema": {"type": "string", "pattern": "^(root|issuing|issuing-[0-9]+)$"}, "description": "`root`, `issuing` (the first issuing CA) or `issuing-N` (the Nth, made by a CA renewal; every one stays served)"}],
                    "responses": {"200": binary("application/pkix-crl", "CRL"), "404": error_response("no such CA")}}},
                "/pki/ca/{ca}.pem": {"get": {"tags": ["pki"], "summary": "CA certificate, PEM (`.crt` gives DER). `root` is the trust anchor.", "security": [],
                    "parameters": [{"name": "ca", "in": "path", "required": true, "schema": {"type": "string", "pattern": "^(root|issuing|issuing-[0-9]+)$"}, "description": "`root`, `issuing` (the first issuing CA) or `issuing-N` (the Nth, made by a CA renewal; every one stays served)"}],
                    "responses": {"200": binary("application/x-pem-file", "certificate"), "404": error_response("no such CA")}}},
                "/api/oauth/token": {"post": {"tags": ["auth"], "summary": "OAuth2 token endpoint (RFC 6749): password and refresh_token grants. Refresh tokens rotate; a reused one revokes its family.", "security": [],
                    "requestBody": {"required": true, "content": {
                        "application/x-www-form-urlencoded": {"schema": {"$ref": "#/components/schemas/TokenRequest"}},
                        "application/json": {"schema": {"$ref": "#/components/schemas/TokenRequest"}}}},
                    "responses": {"200": {"description": "tokens", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/TokenResponse"}}}},
                                  "400": {"description": "RFC 6749 §5.2 error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/OAuthError"}}}},
                                  "401": {"description": "invalid_client", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/OAuthError"}}}}}}},
                "/api/oauth/revoke": {"post": {"tags": ["auth"], "summary": "RFC 7009 revocation: revokes the token's whole family (logout).", "security": [],
                    "requestBody": {"required": true, "content": {"application/x-www-form-urlencoded": {"schema": {"type": "object", "properties": {"token": {"type": "string"}}, "required": ["token"]}}}},
                    "responses": {"200": {"description": "revoked (or unknown: RFC 7009 answers 200 either way)"}}}},
                "/api/logout": {"post": {"tags": ["auth"], "summary": "Revokes the credential of this request (OAuth family or console session).",
                    "responses": {"204": {"description": "revoked"}, "401": error_response("not authenticated")}}},
                "/api/session": {
                    "post": {"tags": ["auth"], "summary": "Console login: sets the `paraf_session` cookie (Secure, HttpOnly, SameSite=Strict).", "security": [],
                        "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/LoginRequest"}}}},
                        "responses": {"200": {"description": "logged in", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Me"}}}}, "401": error_response("wrong e-mail or password")}},
                    "delete": {"tags": ["auth"], "summary": "Console logout: revokes the session and clears the cookie.",
                        "responses": {"204": {"description": "logged out"}}}},
                "/api/me": {"get": {"tags": ["auth"], "summary": "Who am I: organisation, user and credential kind.",
                    "responses": {"200": {"description": "the caller", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Me"}}}},
                                  "401": error_response("not authenticated"), "429": error_response("rate limited")}}},
                "/admin/outbox": {"get": {"tags": ["admin"], "summary": "Mails of the caller's organisation (the development outbox when no SMTP relay is configured). Admins only.",
                    "responses": {"200": {"description": "mails, newest first", "content": {"application/json": {"schema": {"type": "object", "properties": {"mails": {"type": "array", "items": {"$ref": "#/components/schemas/Mail"}}}}}}},
                                  "403": error_response("not an admin")}}},
                "/api/webhooks": {"get": {"tags": ["webhooks"], "summary": "The organisation's webhook endpoints (without their secrets). Admins only.",
                    "responses": {"200": {"description": "endpoints", "content": {"application/json": {"schema": {"type": "object", "properties": {"endpoints": {"type": "array", "items": {"$ref": "#/components/schemas/WebhookEndpoint"}}}}}}},
                                  "403": error_response("not an admin")}}},
                "/api/webhooks/deliveries": {"get": {"tags": ["webhooks"], "summary": "The delivery log, newest first. Admins only.",
                    "parameters": [
                        {"name": "endpoint_id", "in": "query", "schema": {"type": "integer"}, "description": "Only this endpoint's deliveries."},
                        {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 500, "default": 100}}],
                    "responses": {"200": {"description": "deliveries", "content": {"application/json": {"schema": {"type": "object", "properties": {"deliveries": {"type": "array", "items": {"$ref": "#/components/schemas/WebhookDelivery"}}}}}}},
                                  "403": error_response("not an admin")}}},
                "/api/webhooks/deliveries/{delivery}/redeliver": {"post": {"tags": ["webhooks"], "summary": "Sends a delivery's event again (same event id and body). Admins only.",
                    "parameters": [{"name": "delivery", "in": "path", "required": true, "schema": {"type": "integer"}}],
                    "responses": {"202": {"description": "queued", "content": {"application/json": {"schema": {"type": "object", "properties": {"job_id": {"type": "string"}}}}}},
                                  "403": error_response("not an admin"), "404": error_response("no such delivery")}}}
            },
            "components": {
                "securitySchemes": {
                    "apiToken": {"type": "http", "scheme": "bearer", "description": "API token (`paraf_pat_…`) or OAuth2 access token (`paraf_oat_…`)."},
                    "appCredential": {"type": "http", "scheme": "basic", "description": "Application credential; the client IP must be in its allow-list."},
                    "oauth2": {"type": "oauth2", "flows": {"password": {"tokenUrl": "/api/oauth/token", "refreshUrl": "/api/oauth/token", "scopes": {}}}},
                    "session": {"type": "apiKey", "in": "cookie", "name": "paraf_session"}
                },
                "headers": {
                    "X-RateLimit-Limit": {"schema": {"type": "integer"}, "description": "Requests allowed in the most restrictive window of the plan."},
                    "X-RateLimit-Remaining": {"schema": {"type": "integer"}},
                    "Retry-After": {"schema": {"type": "integer"}, "description": "Seconds until the refusing window resets (429 only)."},
                    "x-request-id": {"schema": {"type": "string"}, "description": "Echoed or generated. A repeated id with the same credential replays the first response."}
                },
                "schemas": {
                    "Error": {"type": "object", "required": ["error"], "properties": {"error": {"type": "object", "required": ["code", "message"], "properties": {
                        "code": {"type": "string", "examples": ["invalid_credentials", "rate_limited", "payload_too_large"]},
                        "message": {"type": "string", "description": "In the request's language (x-language / Accept-Language: id, en, fr, it, es)."},
                        "request_id": {"type": "string"}}}}},
                    "Status": {"type": "object", "properties": {"status": {"type": "string"}}},
                    "WebhookEndpoint": {"type": "object", "properties": {
                        "id": {"type": "integer"}, "org": {"type": "integer"}, "url": {"type": "string"},
                        "description": {"type": "string"}, "enabled": {"type": "boolean"},
                        "created_at": {"type": "string", "format": "date-time"},
                        "events": {"type": "array", "items": {"type": "string"}, "description": "Empty: every event."},
                        "previous_secret_until": {"type": ["string", "null"], "format": "date-time"}}},
                    "WebhookDelivery": {"type": "object", "properties": {
                        "id": {"type": "integer"}, "org": {"type": "integer"}, "endpoint": {"type": ["integer", "null"]},
                        "job": {"type": ["integer", "null"]}, "url": {"type": "string"}, "event": {"type": "string"},
                        "attempt": {"type": "integer"}, "status_code": {"type": ["integer", "null"]},
                        "error": {"type": ["string", "null"]}, "duration_ms": {"type": "integer"},
                        "at": {"type": "string", "format": "date-time"}}},
                    "TokenRequest": {"type": "object", "required": ["grant_type"], "properties": {
                        "grant_type": {"enum": ["password", "refresh_token"]},
                        "username": {"type": "string", "description": "E-mail address; `org-slug/e-mail` when the address exists in several organisations."},
                        "password": {"type": "string"},
                        "refresh_token": {"type": "string"},
                        "scope": {"type": "string"}}},
                    "TokenResponse": {"type": "object", "required": ["access_token", "token_type", "expires_in"], "properties": {
                        "access_token": {"type": "string"}, "token_type": {"const": "Bearer"}, "expires_in": {"type": "integer"},
                        "refresh_token": {"type": "string"}}},
                    "OAuthError": {"type": "object", "required": ["error"], "properties": {
                        "error": {"enum": ["invalid_request", "invalid_client", "invalid_grant", "unauthorized_client", "unsupported_grant_type", "invalid_scope"]},
                        "error_description": {"type": "string"}}},
                    "LoginRequest": {"type": "object", "required": ["email", "password"], "properties": {
                        "email": {"type": "string"}, "password": {"type": "string"}, "organization": {"type": "string", "description": "Slug, needed when the e-mail exists in several organisations."}}},
                    "Me": {"type": "object", "properties": {
                        "organization": {"type": "object", "properties": {"slug": {"type": "string"}, "name": {"type": "string"}, "plan": {"type": "string"}}},
                        "user": {"type": ["object", "null"], "properties": {"id": {"type": "string"}, "name": {"type": "string"}, "email": {"type": "string"}, "role": {"type": "string"}}},
                        "credential": {"type": "object", "properties": {"kind": {"enum": ["api_token", "app_credential", "oauth", "gateway", "console_session"]}}}}},
                    "Mail": {"type": "object", "properties": {"id": {"type": "string"}, "to": {"type": "string"}, "subject": {"type": "string"}, "body": {"type": "string"}, "status": {"type": "string"}, "created_at": {"type": "string"}}}
                }
            },
            "security": [{"apiToken": []}, {"appCredential": []}, {"oauth2": []}, {"session": []}]
        });
        OpenApi { doc }
    }

    /// The document of one face (`name`): the shared components and security schemes, only
    /// that face's paths (it adds them as it adds them to the merged document).
    pub fn for_dialect(public_url: &str, name: &str) -> OpenApi {
        let mut d = OpenApi::shared(public_url);
        d.doc["paths"] = json!({});
        d.doc["info"]["title"] = json!(format!("Paraf — {name}"));
        d.doc["info"]["description"] = json!(format!(
            "The `{name}` routes of Paraf; `/openapi.json` has every route."
        ));
        d
    }

    /// Adds paths, e.g. a dialect's: the operations of a path already there join it (one
    /// method public, the others behind a token), the same method is replaced.
    pub fn merge_paths(&mut self, paths: Map<String, Value>) {
        if let Some(Value::Object(p)) = self.doc.get_mut("paths") {
            for (path, item) in paths {
                match (p.get_mut(&path), item) {
                    (Some(Value::Object(old)), Value::Object(new)) => old.extend(new),
                    (_, item) => {
                        p.insert(path, item);
                    }
                }
            }
        }
    }

    /// Adds (or replaces) component schemas, e.g. a dialect's error envelope.
    pub fn merge_schemas(&mut self, schemas: Map<String, Value>) {
        if let Some(Value::Object(s)) = self
            .doc
            .get_mut("components")
            .and_then(|c| c.get_mut("schemas"))
        {
            s.extend(schemas);
        }
    }

    /// Adds a derived document (a dialect's `utoipa` output as JSON): its paths and components;
    /// every operation without its own `security` gets `security` when one is given (an empty
    /// list marks public routes).
    pub fn merge_derived(&mut self, mut derived: Value, security: Option<Value>) {
        if let Some(Value::Object(paths)) = derived.get_mut("paths").map(Value::take) {
            let mut paths = paths;
            if let Some(sec) = &security {
                for item in paths.values_mut().filter_map(Value::as_object_mut) {
                    for op in item.values_mut().filter_map(Value::as_object_mut) {
                        op.entry("security").or_insert_with(|| sec.clone());
                    }
                }
            }
            self.merge_paths(paths);
        }
        // Every section of its components (schemas, security schemes, parameters…).
        if let Some(Value::Object(parts)) = derived.get_mut("components").map(Value::take) {
            for (section, entries) in parts {
                let Value::Object(entries) = entries else {
                    continue;
                };
                if let Some(Value::Object(c)) = self.doc.get_mut("components") {
                    match c.entry(section).or_insert_with(|| json!({})) {
                        Value::Object(mine) => mine.extend(entries),
                        other => *other = Value::Object(entries),
                    }
                }
            }
        }
    }

    /// Every path template in the document.
    pub fn paths(&self) -> Vec<String> {
        self.doc
            .get("paths")
            .and_then(Value::as_object)
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default()
    }

    /// The document.
    pub fn to_value(&self) -> &Value {
        &self.doc
    }
}
