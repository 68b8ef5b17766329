//! The OpenAPI 3.1 document, written out by hand next to the routes it
//! describes. `tests/api/openapi.rs` checks that every route in
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

fn barcode_param(what: &str) -> Value {
    json!({ "name": "barcode", "in": "path", "required": true, "description": what,
            "schema": { "type": "string", "pattern": "^[A-Za-z0-9-]{4,40}$" } })
}

/// A write operation: JSON body, a 2xx answer, and its refusals by code.
fn write_op(
    summary: &str,
    id: &str,
    body: Value,
    ok: (&str, Value),
    errors: &[(&str, &str)],
    params: Vec<Value>,
) -> Value {
    let mut responses = serde_json::Map::new();
    responses.insert(ok.0.to_string(), ok_json("Applied", ok.1));
    for (status, codes) in errors {
        responses.insert(status.to_string(), error_response(codes));
    }
    json!({
        "summary": summary,
        "operationId": id,
        "parameters": params,
        "requestBody": { "required": true, "content": { "application/json": { "schema": body } } },
        "responses": responses
    })
}

fn pipeline_paths() -> Value {
    let applied = schema_ref("Applied");
    let at = json!({ "type": "string", "format": "date-time", "description": "The device's clock; default now" });
    json!({
        "/api/v1/sites": { "get": {
            "summary": "Sampling sites in an area's subtree",
            "operationId": "listSites",
            "parameters": [ { "name": "area", "in": "query", "required": true, "schema": { "type": "integer" } } ],
            "responses": {
                "200": ok_json("Sites", json!({ "type": "array", "items": schema_ref("Site") })),
                "400": error_response("invalid_field: area"),
                "404": error_response("not_found: no such area")
            }
        }},
        "/api/v1/rounds": {
            "get": {
                "summary": "Every screening round, newest first",
                "operationId": "listRounds",
                "responses": { "200": ok_json("Rounds", json!({ "type": "array", "items": schema_ref("Round") })) }
            },
            "post": write_op("Create a screening round (轮次)", "createRound",
                json!({ "type": "object", "required": ["name", "pool_size", "starts_at", "ends_at", "areas"],
                        "properties": { "name": { "type": "string" }, "pool_size": { "enum": [1, 5, 10, 20] },
                            "starts_at": { "type": "string", "format": "date-time" },
                            "ends_at": { "type": "string", "format": "date-time" },
                            "areas": { "type": "array", "items": { "type": "integer" } } } }),
                ("201", schema_ref("Round")),
                &[("400", "invalid_field (name, ends_at, areas), malformed_json, invalid_body"),
                  ("404", "not_found: an area"),
                  ("422", "bad_pool_size")], vec![])
        },
        "/api/v1/rounds/{id}": { "get": {
            "summary": "One round",
            "operationId": "getRound",
            "parameters": [ id_param("Round id") ],
            "responses": {
                "200": ok_json("The round", schema_ref("Round")),
                "400": error_response("invalid_path"),
                "404": error_response("not_found")
            }
        }},
        "/api/v1/tubes": { "post": write_op("Open a tube at a site for a round", "openTube",
            json!({ "type": "object", "required": ["tube", "round", "site"],
                    "properties": { "tube": { "type": "string" }, "round": { "type": "integer" }, "site": { "type": "integer" },
                        "kind": { "enum": ["human", "environmental"] }, "capacity": { "type": "integer" }, "at": at } }),
            ("201", applied.clone()),
            &[("400", "malformed_json, invalid_body"),
              ("404", "round_unknown, site_unknown"),
              ("409", "tube_exists, round_closed"),
              ("422", "invalid_identifier (tube), bad_capacity, bad_pool_size")], vec![]) },
        "/api/v1/tubes/{barcode}": { "get": {
            "summary": "A tube, its state and result history (never the persons in it)",
            "operationId": "getTube",
            "parameters": [ barcode_param("Tube barcode") ],
            "responses": {
                "200": ok_json("The tube", schema_ref("Tube")),
                "404": error_response("tube_unknown"),
                "422": error_response("invalid_identifier")
            }
        }},
        "/api/v1/tubes/{barcode}/samples": { "post": write_op(
            "Scan a person (ID number or health-code QR `GSHC1|resident_id|…`) or an environmental point into a tube",
            "addSample",
            json!({ "type": "object", "properties": { "document": { "type": "string" },
                    "document_kind": { "type": "string" }, "qr": { "type": "string" }, "point": { "type": "string" }, "at": at } }),
            ("201", applied.clone()),
            &[("400", "invalid_field (document), malformed_json"),
              ("404", "tube_unknown, person_unknown"),
              ("409", "tube_not_open, tube_full, duplicate_sample, duplicate_point, wrong_tube_kind"),
              ("422", "invalid_identifier: wrong check digit, bad birth date, bad QR")],
            vec![barcode_param("Tube barcode")]) },
        "/api/v1/tubes/{barcode}/seal": { "post": write_op("Seal a tube: no more samples", "sealTube",
            json!({ "type": "object", "properties": { "at": at } }),
            ("200", applied.clone()),
            &[("404", "tube_unknown"), ("409", "tube_not_open, tube_empty"), ("422", "invalid_identifier")],
            vec![barcode_param("Tube barcode")]) },
        "/api/v1/boxes": { "post": write_op("Pack sealed tubes into a transfer box", "packBox",
            json!({ "type": "object", "required": ["box", "tubes"],
                    "properties": { "box": { "type": "string" }, "tubes": { "type": "array", "items": { "type": "string" } }, "at": at } }),
            ("200", applied.clone()),
            &[("400", "invalid_field (tubes)"), ("404", "tube_unknown"),
              ("409", "tube_not_sealed, box_closed"), ("422", "invalid_identifier")], vec![]) },
        "/api/v1/boxes/{barcode}/handover": { "post": write_op("Hand a box to the courier", "handOverBox",
            json!({ "type": "object", "properties": { "at": at } }),
            ("200", applied.clone()),
            &[("404", "box_unknown"), ("409", "box_closed"), ("422", "invalid_identifier")],
            vec![barcode_param("Box barcode")]) },
        "/api/v1/lab/receipts": { "post": write_op("A lab receives tubes or whole boxes", "receive",
            json!({ "type": "object", "properties": { "tubes": { "type": "array", "items": { "type": "string" } },
                    "boxes": { "type": "array", "items": { "type": "string" } }, "at": at } }),
            ("200", applied.clone()),
            &[("400", "invalid_field (tubes)"), ("404", "tube_unknown, box_unknown"),
              ("409", "tube_not_sealed, already_received"), ("422", "invalid_identifier")], vec![]) },
        "/api/v1/results": { "post": write_op(
            "A lab's result for one tube; outcome derived from Ct by the cut-offs when omitted",
            "postResult",
            json!({ "type": "object", "required": ["tube"],
                    "properties": { "tube": { "type": "string" },
                        "outcome": { "enum": ["negative", "suspected", "positive", "invalid"] },
                        "ct": schema_ref("Ct"), "correction": { "type": "boolean" }, "at": at } }),
            ("200", applied.clone()),
            &[("400", "invalid_field (ct.orf1ab, ct.n), malformed_json"), ("404", "tube_unknown"),
              ("409", "tube_not_received, result_conflict, nothing_to_correct"), ("422", "invalid_identifier")], vec![]) },
        "/api/v1/results/import": { "post": {
            "summary": "A lab's result sheet (CSV in UTF-8/GBK, or XLSX): columns 管号 (tube), 结果 (outcome), ORF1ab, N (Ct; 未检出 = not detected)",
            "operationId": "importResults",
            "parameters": [ { "name": "skip_bad_rows", "in": "query", "schema": { "type": "boolean", "default": false } } ],
            "requestBody": { "required": true, "content": {
                "text/csv": { "schema": { "type": "string", "format": "binary" } },
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": { "schema": { "type": "string", "format": "binary" } }
            }},
            "responses": {
                "200": ok_json("Applied (with skip_bad_rows, the skipped rows are listed)", json!({ "type": "object" })),
                "400": error_response("invalid_query"),
                "422": error_response("import_rejected (details: every bad row, incl. tube_unknown, tube_not_received, result_conflict per row), empty_file, unreadable_file, missing_column")
            }
        }},
        "/api/v1/sync": { "post": write_op(
            "A device's offline queue: each event applied exactly once, in sequence order; the answer means durable",
            "sync",
            json!({ "type": "object", "required": ["device", "events"],
                    "properties": { "device": { "type": "string" },
                        "events": { "type": "array", "maxItems": 5000, "items": schema_ref("DeviceEvent") } } }),
            ("200", schema_ref("SyncReport")),
            &[("400", "invalid_field (device, events), malformed_json, invalid_body")], vec![]) },
        "/api/v1/events": { "get": {
            "summary": "Live stream (Server-Sent Events): tube_opened, sample_added, tube_sealed, tube_boxed, box_handed_over, tube_received, tube_resulted",
            "operationId": "events",
            "responses": { "200": { "description": "text/event-stream; each data is a LiveEvent JSON",
                                    "content": { "text/event-stream": { "schema": { "type": "string" } } } } }
        }},
        "/api/v1/residents/import": { "post": {
            "summary": "Import a residents roster (CSV in UTF-8/GBK, or XLSX) sent as the raw body; see docs/roster-format.md",
            "operationId": "importResidents",
            "parameters": [
                { "name": "skip_bad_rows", "in": "query", "schema": { "type": "boolean", "default": false } },
                { "name": "dry_run", "in": "query", "schema": { "type": "boolean", "default": false } }
            ],
            "requestBody": { "required": true, "content": {
                "text/csv": { "schema": { "type": "string", "format": "binary" } },
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": { "schema": { "type": "string", "format": "binary" } }
            }},
            "responses": {
                "200": ok_json("Dry run: what would be imported", schema_ref("ImportReport")),
                "201": ok_json("Imported", schema_ref("ImportReport")),
                "400": error_response("invalid_query"),
                "409": error_response("conflict: a row became a duplicate while importing"),
                "413": error_response("file larger than 64 MiB"),
                "422": error_response("import_rejected (details: the report with every bad row), empty_file, unreadable_file, not_a_roster, missing_column, duplicate_column")
            }
        }}
    })
}

/// The whole document.
pub fn document() -> Value {
    let mut doc = base();
    let extra = pipeline_paths();
    let paths = doc["paths"].as_object_mut().expect("paths");
    for (k, v) in extra.as_object().expect("paths") {
        paths.insert(k.clone(), v.clone());
    }
    for (k, v) in crate::openapi_incidents::paths()
        .as_object()
        .expect("paths")
    {
        paths.insert(k.clone(), v.clone());
    }
    let schemas = doc["components"]["schemas"]
        .as_object_mut()
        .expect("schemas");
    for (k, v) in pipeline_schemas().as_object().expect("schemas") {
        schemas.insert(k.clone(), v.clone());
    }
    for (k, v) in crate::openapi_incidents::schemas()
        .as_object()
        .expect("schemas")
    {
        schemas.insert(k.clone(), v.clone());
    }
    crate::auth::openapi::extend(&mut doc);
    doc
}

fn pipeline_schemas() -> Value {
    json!({
        "Site": { "type": "object", "properties": { "id": { "type": "integer" }, "area": { "type": "integer" },
            "kind": { "enum": ["hut", "door_to_door", "closed_loop"] }, "name": { "type": "string" } } },
        "Round": { "type": "object", "properties": { "id": { "type": "integer" }, "name": { "type": "string" },
            "pool_size": { "type": "integer" }, "starts_at": { "type": "string" }, "ends_at": { "type": "string" },
            "closed": { "type": "boolean" }, "areas": { "type": "array", "items": { "type": "integer" } } } },
        "Ct": { "type": "object", "properties": {
            "orf1ab": { "type": ["number", "null"], "description": "Ct of ORF1ab; null = not detected" },
            "n": { "type": ["number", "null"], "description": "Ct of N; null = not detected" } } },
        "Applied": { "type": "object", "properties": { "effects": { "type": "array", "items": { "type": "object",
            "description": "tube_opened, sample_added, tube_sealed, tube_boxed, box_handed_over, tube_received, tube_resulted or result_unchanged" } } } },
        "Tube": { "type": "object", "properties": {
            "barcode": { "type": "string" }, "round": { "type": "integer" }, "site": { "type": "integer" },
            "kind": { "enum": ["human", "environmental"] },
            "status": { "enum": ["open", "sealed", "boxed", "in_transit", "received", "resulted"] },
            "capacity": { "type": "integer" }, "samples": { "type": "integer" },
            "results": { "type": "array", "items": { "type": "object" } } } },
        "DeviceEvent": { "type": "object", "required": ["seq", "at", "type"],
            "description": "seq: per-device, from 1, no gaps; at: device clock; type: open_tube | add_person | add_point | seal_tube | box_tubes | hand_over | receive | post_result, with that command's fields",
            "properties": { "seq": { "type": "integer", "minimum": 1 }, "at": { "type": "string", "format": "date-time" },
                "type": { "type": "string" } } },
        "SyncReport": { "type": "object", "properties": {
            "accepted": { "type": "array", "items": { "type": "integer" }, "description": "Applied (now or before)" },
            "pending": { "type": "array", "items": { "type": "integer" }, "description": "Stored; waiting for an earlier seq" },
            "rejected": { "type": "array", "items": { "type": "object", "properties": {
                "seq": { "type": "integer" }, "code": { "type": "string" }, "message": { "type": "string" } } } },
            "next_seq": { "type": "integer" } } },
        "ImportReport": { "type": "object", "properties": {
            "status": { "enum": ["imported", "rejected", "dry_run"] },
            "rows_total": { "type": "integer" }, "rows_imported": { "type": "integer" }, "rows_bad": { "type": "integer" },
            "skipped_rows": { "type": "array", "items": { "type": "integer" } },
            "households_created": { "type": "integer" },
            "errors": { "type": "array", "items": { "type": "object", "properties": {
                "row": { "type": "integer" }, "column": { "type": "string" },
                "value_masked": { "type": "string" }, "reason": { "type": "string" } } } },
            "warnings": { "type": "array", "items": { "type": "string" } } } }
    })
}

fn base() -> Value {
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
