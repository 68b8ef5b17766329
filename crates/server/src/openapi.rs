//! The OpenAPI 3.1 document, written out by hand next to the routes it
//! describes. `tests/openapi.rs` checks that every route in
//! [`crate::API_ROUTES`] is documented with its error answers.

use axum::Json;
use serde_json::{Value, json};

/// `GET /api/v1/openapi.json`.
pub async fn serve() -> Json<Value> {
    Json(document())
}

fn error_response(description: &str) -> Value {
    json!({
        "description": description,
        "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } }
    })
}

fn ok_json(description: &str, schema: Value) -> Value {
    json!({
        "description": description,
        "content": { "application/json": { "schema": schema } }
    })
}

fn schema_ref(name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}

fn id_param(description: &str) -> Value {
    json!({ "name": "id", "in": "path", "required": true, "description": description,
            "schema": { "type": "integer", "minimum": 1 } })
}

/// The whole document.
pub fn document() -> Value {
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "gridsweep",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Mass pooled nucleic-acid screening and outbreak response. \
                Every error answer is {\"error\": {\"code\", \"message\", \"field\"?, \"details\"?}} \
                with a 4xx status for bad input and 5xx for server faults."
        },
        "paths": {
            "/healthz": { "get": {
                "summary": "Liveness: answers when the database does",
                "operationId": "healthz",
                "responses": {
                    "200": ok_json("Up", schema_ref("Health")),
                    "500": error_response("The database does not answer")
                }
            }},
            "/api/v1/openapi.json": { "get": {
                "summary": "This document",
                "operationId": "openapi",
                "responses": { "200": ok_json("OpenAPI 3.1", json!({ "type": "object" })) }
            }},
            "/api/v1/areas": { "get": {
                "summary": "The districts (roots of the grid tree)",
                "operationId": "listRootAreas",
                "responses": {
                    "200": ok_json("Districts", json!({ "type": "array", "items": schema_ref("Area") }))
                }
            }},
            "/api/v1/areas/{id}": { "get": {
                "summary": "One area with its resident count and breadcrumbs",
                "operationId": "getArea",
                "parameters": [ id_param("Area id") ],
                "responses": {
                    "200": ok_json("The area", schema_ref("Area")),
                    "400": error_response("invalid_path / invalid_field: id is not a positive integer"),
                    "404": error_response("not_found: no such area")
                }
            }},
            "/api/v1/areas/{id}/children": { "get": {
                "summary": "The children of an area, each with its resident count",
                "operationId": "getAreaChildren",
                "parameters": [ id_param("Area id") ],
                "responses": {
                    "200": ok_json("Children by name", json!({ "type": "array", "items": schema_ref("Area") })),
                    "400": error_response("invalid_path / invalid_field: id is not a positive integer"),
                    "404": error_response("not_found: no such area")
                }
            }},
            "/api/v1/persons": { "get": {
                "summary": "Search persons within an area by name prefix or whole document number",
                "description": "ID numbers and phones are masked in answers (410105********1234, 138****5678).",
                "operationId": "searchPersons",
                "parameters": [
                    { "name": "area", "in": "query", "required": true, "schema": { "type": "integer", "minimum": 1 },
                      "description": "Search this area's whole subtree" },
                    { "name": "q", "in": "query", "required": true, "schema": { "type": "string", "maxLength": 64 },
                      "description": "Name prefix, or a whole ID / document number" },
                    { "name": "limit", "in": "query", "required": false,
                      "schema": { "type": "integer", "minimum": 1, "maximum": 200, "default": 50 } }
                ],
                "responses": {
                    "200": ok_json("Matches by name", json!({ "type": "array", "items": schema_ref("Person") })),
                    "400": error_response("invalid_field (area, q or limit) / invalid_query"),
                    "404": error_response("not_found: no such area")
                }
            }}
        },
        "components": { "schemas": {
            "Error": {
                "type": "object", "required": ["error"],
                "properties": { "error": {
                    "type": "object", "required": ["code", "message"],
                    "properties": {
                        "code": { "type": "string", "description": "Stable machine-readable code" },
                        "message": { "type": "string" },
                        "field": { "type": "string", "description": "The input at fault" },
                        "details": { "description": "Structured details, e.g. the bad rows of an import" }
                    }
                }}
            },
            "Health": {
                "type": "object",
                "properties": {
                    "status": { "type": "string", "const": "ok" },
                    "backend": { "type": "string", "enum": ["sqlite", "postgres"] },
                    "version": { "type": "string" }
                }
            },
            "AreaLevel": {
                "type": "string",
                "enum": ["district", "sub_district", "community", "grid", "compound", "school",
                         "workplace", "building", "household"]
            },
            "Area": {
                "type": "object",
                "required": ["id", "level", "name", "resident_count"],
                "properties": {
                    "id": { "type": "integer" },
                    "parent": { "type": ["integer", "null"] },
                    "level": schema_ref("AreaLevel"),
                    "level_label": { "type": "string" },
                    "name": { "type": "string" },
                    "resident_count": { "type": "integer", "description": "Residents in the whole subtree" },
                    "ancestors": { "type": "array", "items": {
                        "type": "object",
                        "properties": { "id": { "type": "integer" }, "level": schema_ref("AreaLevel"), "name": { "type": "string" } }
                    }}
                }
            },
            "Person": {
                "type": "object",
                "properties": {
                    "id": { "type": "integer" },
                    "name": { "type": "string" },
                    "document_kind": { "type": "string" },
                    "document_masked": { "type": "string", "examples": ["410105********1234"] },
                    "gender": { "type": ["string", "null"], "enum": ["male", "female", null] },
                    "birth_year": { "type": ["string", "null"] },
                    "phone_masked": { "type": ["string", "null"], "examples": ["138****5678"] },
                    "household": { "type": "integer" },
                    "address": { "type": "string" }
                }
            }
        }}
    })
}
