//! The OpenAPI side of accounts: the auth, account, token and audit
//! paths, the security schemes, and — from the route table — the
//! `security`, 401 and 403 of every protected operation.

use crate::route_table::{API_ROUTES, Access, Scope};
use serde_json::{Value, json};

fn err(description: &str) -> Value {
    json!({ "description": description,
            "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } } })
}

fn ok(description: &str, schema: Value) -> Value {
    json!({ "description": description, "content": { "application/json": { "schema": schema } } })
}

fn sref(name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}

fn id(what: &str) -> Value {
    json!({ "name": "id", "in": "path", "required": true, "description": what,
            "schema": { "type": "integer", "minimum": 1 } })
}

fn body(schema: Value) -> Value {
    json!({ "required": true, "content": { "application/json": { "schema": schema } } })
}

/// Paths of login, accounts, tokens, the audit trail and one person.
pub(crate) fn paths() -> Value {
    let users = json!({ "type": "array", "items": sref("User") });
    json!({
        "/api/v1/auth/login": { "post": {
            "summary": "Password login: sets the session cookie (HttpOnly, SameSite=Strict) and returns the CSRF token",
            "operationId": "login",
            "requestBody": body(json!({ "type": "object", "required": ["username", "password"],
                "properties": { "username": { "type": "string" }, "password": { "type": "string" } } })),
            "responses": {
                "200": ok("Signed in", json!({ "type": "object", "properties": {
                    "user": sref("User"), "csrf_token": { "type": "string" },
                    "expires_at": { "type": "string", "format": "date-time" } } })),
                "400": err("malformed_json / invalid_body"),
                "401": err("bad_credentials"),
                "429": err("too_many_attempts: per account or per address; see Retry-After")
            }
        }},
        "/api/v1/auth/logout": { "post": {
            "summary": "Ends the session and clears the cookie",
            "operationId": "logout",
            "responses": { "204": { "description": "Signed out" } }
        }},
        "/api/v1/auth/me": { "get": {
            "summary": "The caller's own account",
            "operationId": "me",
            "responses": { "200": ok("The account", sref("User")) }
        }},
        "/api/v1/auth/password": { "post": {
            "summary": "Replace the signed-in person's password (a one-time password must be replaced before any other call, which answers 403 password_change_required until then); ends the account's other sessions",
            "operationId": "changePassword",
            "requestBody": body(json!({ "type": "object", "required": ["current_password", "new_password"],
                "properties": { "current_password": { "type": "string" },
                                "new_password": { "type": "string", "minLength": 10 } } })),
            "responses": {
                "204": { "description": "Changed" },
                "400": err("invalid_field (new_password: too short or unchanged), invalid_body"),
                "403": err("bad_credentials (current_password), session_required (API tokens have no password), csrf_failed"),
                "429": err("too_many_attempts")
            }
        }},
        "/api/v1/users": {
            "get": { "summary": "Every account", "operationId": "listUsers",
                     "responses": { "200": ok("Accounts", users) } },
            "post": {
                "summary": "Create an account: role, and an area scope (labs: a lab name; admin: neither)",
                "operationId": "createUser",
                "requestBody": body(json!({ "type": "object", "required": ["username", "role"], "properties": {
                    "username": { "type": "string", "pattern": "^[A-Za-z0-9._-]{3,64}$" },
                    "display_name": { "type": "string" }, "role": sref("Role"),
                    "scope_area": { "type": "integer" }, "lab": { "type": "string" },
                    "password": { "type": "string", "minLength": 10,
                                  "description": "Omit for token-only (device) accounts" } } })),
                "responses": {
                    "201": ok("Created", sref("User")),
                    "400": err("invalid_field: username, role, password, scope_area or lab"),
                    "404": err("not_found: scope_area"),
                    "409": err("username_taken")
                }
            }
        },
        "/api/v1/users/{id}/disable": { "post": {
            "summary": "Disable an account: its sessions and tokens stop working at once",
            "operationId": "disableUser", "parameters": [ id("User id") ],
            "responses": { "200": ok("Disabled", sref("User")), "404": err("not_found"),
                           "409": err("cannot_disable_self") }
        }},
        "/api/v1/users/{id}/enable": { "post": {
            "summary": "Enable an account again", "operationId": "enableUser",
            "parameters": [ id("User id") ],
            "responses": { "200": ok("Enabled", sref("User")), "404": err("not_found") }
        }},
        "/api/v1/tokens": {
            "get": { "summary": "Every API token (never the secret)", "operationId": "listTokens",
                     "responses": { "200": ok("Tokens", json!({ "type": "array", "items": sref("ApiToken") })) } },
            "post": {
                "summary": "Issue an API token for a device or lab system; the secret is in this answer only",
                "operationId": "createToken",
                "requestBody": body(json!({ "type": "object", "required": ["user", "name"], "properties": {
                    "user": { "type": "integer" }, "name": { "type": "string" },
                    "expires_in_days": { "type": "integer", "minimum": 1, "maximum": 365, "default": 90 } } })),
                "responses": {
                    "201": ok("Issued", json!({ "allOf": [ sref("ApiToken"),
                        { "type": "object", "properties": { "token": { "type": "string",
                          "description": "Send as Authorization: Bearer <token>; shown once" } } } ] })),
                    "400": err("invalid_field: name or expires_in_days"),
                    "404": err("not_found: user")
                }
            }
        },
        "/api/v1/tokens/{id}/revoke": { "post": {
            "summary": "Revoke a token (idempotent)", "operationId": "revokeToken",
            "parameters": [ id("Token id") ],
            "responses": { "200": ok("Revoked", sref("ApiToken")), "404": err("not_found") }
        }},
        "/api/v1/audit": { "get": {
            "summary": "The audit trail, newest first (append-only: no API changes it)",
            "operationId": "audit",
            "parameters": [
                { "name": "actor", "in": "query", "schema": { "type": "string" } },
                { "name": "action", "in": "query", "schema": { "type": "string" },
                  "description": "login, login_failed, logout, person.read, result.post, results.import, round.create, residents.import, user.create, user.disable, user.enable, token.create, token.revoke" },
                { "name": "target", "in": "query", "schema": { "type": "string" }, "description": "e.g. person:42, tube:S0001" },
                { "name": "since", "in": "query", "schema": { "type": "string", "format": "date-time" } },
                { "name": "until", "in": "query", "schema": { "type": "string", "format": "date-time" } },
                { "name": "limit", "in": "query", "schema": { "type": "integer", "minimum": 1, "maximum": 1000, "default": 100 } }
            ],
            "responses": { "200": ok("Entries", json!({ "type": "array", "items": sref("AuditEntry") })),
                           "400": err("invalid_field: limit / invalid_query") }
        }},
        "/api/v1/persons/{id}": { "get": {
            "summary": "One person's record; audited. CDC receives ID number and phone in full, other roles masked",
            "operationId": "getPerson", "parameters": [ id("Person id") ],
            "responses": { "200": ok("The person", sref("Person")), "400": err("invalid_path"),
                           "404": err("not_found") }
        }}
    })
}

/// Schemas of accounts, tokens and audit entries, and the security schemes.
pub(crate) fn components() -> (Value, Value) {
    let schemas = json!({
        "Role": { "enum": ["admin", "command", "cdc", "subdistrict", "community", "grid_worker", "sampler", "lab"] },
        "User": { "type": "object", "properties": {
            "id": { "type": "integer" }, "username": { "type": "string" }, "display_name": { "type": "string" },
            "role": sref("Role"), "scope_area": { "type": ["integer", "null"] },
            "scope_path": { "type": ["string", "null"] }, "lab": { "type": ["string", "null"] },
            "disabled": { "type": "boolean" }, "must_change_password": { "type": "boolean" },
            "created_at": { "type": "string", "format": "date-time" } } },
        "ApiToken": { "type": "object", "properties": {
            "id": { "type": "integer" }, "user_id": { "type": "integer" }, "name": { "type": "string" },
            "prefix": { "type": "string" }, "created_at": { "type": "string" }, "expires_at": { "type": "string" },
            "revoked_at": { "type": ["string", "null"] } } },
        "AuditEntry": { "type": "object", "properties": {
            "id": { "type": "integer" }, "at": { "type": "string", "format": "date-time" },
            "actor_id": { "type": ["integer", "null"] }, "actor": { "type": "string" },
            "role": { "type": ["string", "null"] }, "action": { "type": "string" },
            "target": { "type": ["string", "null"] }, "detail": { "type": ["string", "null"] },
            "address": { "type": ["string", "null"] } } }
    });
    let security = json!({
        "session": { "type": "apiKey", "in": "cookie", "name": super::SESSION_COOKIE,
            "description": "From POST /api/v1/auth/login. Every non-GET request made with the cookie must send the login's csrf_token in X-CSRF-Token (else 403 csrf_failed)." },
        "bearer": { "type": "http", "scheme": "bearer",
            "description": "An API token from POST /api/v1/tokens (devices, lab systems)" }
    });
    (schemas, security)
}

/// Adds the account paths and schemes, and marks every protected route
/// (from the route table) with its security, roles, 401 and 403.
pub(crate) fn extend(doc: &mut Value) {
    if let (Some(paths), Value::Object(extra)) = (doc["paths"].as_object_mut(), paths()) {
        paths.extend(extra);
    }
    let (schemas, security) = components();
    if let (Some(s), Value::Object(extra)) = (doc["components"]["schemas"].as_object_mut(), schemas)
    {
        s.extend(extra);
    }
    doc["components"]["securitySchemes"] = security;
    for r in API_ROUTES {
        let op = &mut doc["paths"][r.path][r.method];
        if !op.is_object() {
            continue;
        }
        // Every JSON body is read as JSON only: `application/json` or
        // `application/…+json`; anything else is refused before any check
        // or handler acts on it.
        let json_body = op["requestBody"]["content"]
            .as_object()
            .is_some_and(|c| c.contains_key("application/json"));
        if json_body {
            op["responses"]["415"] = err(
                "unsupported_media_type: the body is not sent as application/json (or application/…+json)",
            );
        }
        let Some(roles) = r.access.roles() else {
            op["security"] = json!([]);
            continue;
        };
        op["security"] = json!([{ "session": [] }, { "bearer": [] }]);
        op["x-roles"] = json!(roles.iter().map(|r| r.as_str()).collect::<Vec<_>>());
        op["responses"]["401"] = err("unauthenticated: no valid session cookie or bearer token");
        let scope = match r.access {
            Access::Roles(_, s) if s != Scope::None => {
                format!(" or the target ({s:?}) is outside the caller's scope")
            }
            _ => String::new(),
        };
        op["responses"]["403"] = err(&format!(
            "forbidden: the caller's role may not call this{scope}; csrf_failed: a cookie write without X-CSRF-Token"
        ));
    }
}
