//! The OpenAPI description of the incident routes (incidents, decisions,
//! coverage, marks, the report), merged into [`crate::openapi::document`].

use serde_json::{Value, json};

fn err(description: &str) -> Value {
    json!({ "description": description,
            "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } } })
}

fn ok(description: &str, schema: Value) -> Value {
    json!({ "description": description, "content": { "application/json": { "schema": schema } } })
}

fn r(name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}

fn arr(name: &str) -> Value {
    json!({ "type": "array", "items": r(name) })
}

fn int_param(name: &str, description: &str) -> Value {
    json!({ "name": name, "in": "path", "required": true, "description": description,
            "schema": { "type": "integer", "minimum": 1 } })
}

fn body(schema: Value) -> Value {
    json!({ "required": true, "content": { "application/json": { "schema": schema } } })
}

/// The paths.
pub(crate) fn paths() -> Value {
    let id = int_param("id", "Incident id");
    let at = json!({ "type": "string", "format": "date-time", "description": "When it happened; default now" });
    let verdict = json!({ "type": "object", "required": ["by", "role"], "properties": {
        "by": { "type": "string", "description": "The confirming person (until accounts exist)" },
        "role": r("Role"),
        "at": { "type": "string", "format": "date-time",
                "description": "When it was decided; default now. Not before the proposal or the incident, nor more than 300 s after the server's clock" },
        "note": { "type": "string" },
        "override_reason": { "type": "string",
                "description": "Lift below the playbook's coverage requirement: why (recorded, shown in the report)" } } });
    let verdict_errors = |op: &str, summary: &str| {
        json!({
            "summary": summary, "operationId": op,
            "parameters": [ id.clone(), int_param("decision", "Decision id") ],
            "requestBody": body(verdict.clone()),
            "responses": {
                "200": ok("What changed", r("Changed")),
                "400": err("invalid_field (by, override_reason), time_before_proposal (at), time_before_incident (at), time_after_server_clock (at), invalid_body, malformed_json"),
                "403": err("role_not_allowed: the playbook names other roles for this decision"),
                "404": err("incident_unknown, decision_unknown, person_unknown"),
                "409": err("decision_not_pending, incident_closed, conditions_changed (tubes, retests, chains still open), coverage_below_requirement (lift only with override_reason)")
            }
        })
    };
    json!({
        "/api/v1/incidents": { "get": {
            "summary": "Every incident, newest first", "operationId": "listIncidents",
            "responses": { "200": ok("Incidents", arr("Incident")) } } },
        "/api/v1/incidents/{id}": { "get": {
            "summary": "An incident: members (IDs masked), orders, tasks, decisions, timeline, what blocks the all-clear",
            "operationId": "getIncident", "parameters": [ id.clone() ],
            "responses": { "200": ok("The incident", r("IncidentDetail")),
                "400": err("invalid_path"), "404": err("incident_unknown") } } },
        "/api/v1/incidents/{id}/tasks": { "get": {
            "summary": "Tasks: retests, door-to-door per building, tracing, environmental sampling",
            "operationId": "incidentTasks",
            "parameters": [ id.clone(), { "name": "status", "in": "query", "schema": { "enum": ["open", "done"] } } ],
            "responses": { "200": ok("Tasks", arr("Task")), "400": err("invalid_path, invalid_query"),
                "404": err("incident_unknown") } } },
        "/api/v1/incidents/{id}/tasks/{task}/done": { "post": {
            "summary": "Mark a task done", "operationId": "taskDone",
            "parameters": [ id.clone(), int_param("task", "Task id") ],
            "requestBody": body(json!({ "type": "object", "required": ["by"], "properties": { "by": { "type": "string" }, "at": at } })),
            "responses": { "200": ok("The task", r("Task")), "400": err("invalid_field (by)"),
                "404": err("incident_unknown, task_unknown") } } },
        "/api/v1/incidents/{id}/live": { "get": {
            "summary": "The dashboard's view of an incident: members retested n/N, tubes awaiting results, coverage per controlled compound in the expansion round, decisions awaiting confirmation, open tasks, blockers",
            "operationId": "incidentLive", "parameters": [ id.clone() ],
            "responses": { "200": ok("Live status", r("LiveStatus")), "400": err("invalid_path"), "404": err("incident_unknown") } } },
        "/api/v1/incidents/{id}/orders": { "get": {
            "summary": "Control orders: static control, isolation pending retest, home isolation",
            "operationId": "incidentOrders", "parameters": [ id.clone() ],
            "responses": { "200": ok("Orders", arr("Order")), "400": err("invalid_path"), "404": err("incident_unknown") } } },
        "/api/v1/incidents/{id}/decisions": {
            "get": { "summary": "Decisions, proposed and decided, with who confirmed in which role",
                "operationId": "incidentDecisions", "parameters": [ id.clone() ],
                "responses": { "200": ok("Decisions", arr("Decision")), "400": err("invalid_path"), "404": err("incident_unknown") } },
            "post": { "summary": "Propose a decision by hand (the playbook proposes on its own too)",
                "operationId": "proposeDecision", "parameters": [ id.clone() ],
                "requestBody": body(json!({ "type": "object", "required": ["kind", "reason", "by"], "properties": {
                    "kind": r("DecisionKind"), "person": { "type": "integer" }, "reason": { "type": "string" },
                    "by": { "type": "string" }, "at": at } })),
                "responses": { "201": ok("Proposed", r("Changed")),
                    "400": err("invalid_field (by, reason, person), invalid_body"),
                    "404": err("incident_unknown, person_unknown"), "409": err("incident_closed") } } },
        "/api/v1/incidents/{id}/decisions/{decision}/confirm": { "post": verdict_errors("confirmDecision",
            "Confirm a proposed decision and carry it out (lift and close; home isolation N days; confirm case and cascade)") },
        "/api/v1/incidents/{id}/decisions/{decision}/reject": { "post": verdict_errors("rejectDecision",
            "Reject a proposed decision") },
        "/api/v1/incidents/{id}/timeline": { "post": {
            "summary": "Record a grid level in place (kind mobilised, with role) or a note",
            "operationId": "addTimeline", "parameters": [ id.clone() ],
            "requestBody": body(json!({ "type": "object", "required": ["kind", "by"], "properties": {
                "kind": { "enum": ["mobilised", "note"] }, "role": r("Role"), "text": { "type": "string" },
                "by": { "type": "string" }, "at": at } })),
            "responses": { "201": ok("Recorded", r("Changed")), "400": err("invalid_field (kind, role, text, by)"),
                "404": err("incident_unknown") } } },
        "/api/v1/incidents/{id}/report": { "get": {
            "summary": "The incident report (with its cascades): timeline, time to all-clear, counts per community and in total, decisions, isolations, tests saved",
            "operationId": "incidentReport", "parameters": [ id.clone() ],
            "responses": { "200": ok("The report", r("Report")), "400": err("invalid_path"), "404": err("incident_unknown") } } },
        "/api/v1/incidents/{id}/report/html": { "get": {
            "summary": "The report as a readable page (Chinese labels)", "operationId": "incidentReportHtml",
            "parameters": [ id.clone() ],
            "responses": { "200": { "description": "HTML", "content": { "text/html": { "schema": { "type": "string" } } } },
                "400": err("invalid_path"), "404": err("incident_unknown") } } },
        "/api/v1/incidents/{id}/report/xlsx": { "get": {
            "summary": "The report as an Excel workbook", "operationId": "incidentReportXlsx",
            "parameters": [ id.clone() ],
            "responses": { "200": { "description": "XLSX", "content": {
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": { "schema": { "type": "string", "format": "binary" } } } },
                "400": err("invalid_path"), "404": err("incident_unknown") } } },
        "/api/v1/coverage": { "get": {
            "summary": "Coverage of an area in a round: on roster, sampled, explained (marked), missing — by building with the missing persons (IDs masked), rolled up per grid level",
            "operationId": "coverage",
            "parameters": [
                { "name": "area", "in": "query", "required": true, "schema": { "type": "integer" } },
                { "name": "round", "in": "query", "required": true, "schema": { "type": "integer" } } ],
            "responses": { "200": ok("Coverage", r("Coverage")), "400": err("invalid_field (area, round), invalid_query"),
                "404": err("not_found (area), round_unknown") } } },
        "/api/v1/rounds/{id}/marks": {
            "get": { "summary": "Persons marked away, hospitalised or sampled elsewhere in a round",
                "operationId": "listMarks", "parameters": [ int_param("id", "Round id") ],
                "responses": { "200": ok("Marks", arr("PersonMark")), "400": err("invalid_path"), "404": err("round_unknown") } },
            "post": { "summary": "Mark a person away / hospitalised / sampled elsewhere: explained, not missing",
                "operationId": "markPerson", "parameters": [ int_param("id", "Round id") ],
                "requestBody": body(json!({ "type": "object", "required": ["person", "kind", "by"], "properties": {
                    "person": { "type": "integer" }, "kind": { "enum": ["away", "hospitalised", "sampled_elsewhere"] },
                    "note": { "type": "string" }, "by": { "type": "string" }, "at": at } })),
                "responses": { "201": ok("Marked", r("PersonMark")), "400": err("invalid_field (by), invalid_body"),
                    "404": err("round_unknown, person_unknown") } } }
    })
}

/// The schemas those paths refer to.
pub(crate) fn schemas() -> Value {
    let obj = |description: &str| json!({ "type": "object", "description": description });
    json!({
        "Role": { "enum": ["district_command", "sub_district", "community", "grid_worker", "cdc", "sampler", "lab"] },
        "DecisionKind": { "enum": ["lift_and_close", "home_isolation", "confirm_case"] },
        "Changed": { "type": "object", "properties": { "effects": { "type": "array", "items": { "type": "object" } } } },
        "Incident": obj("id, parent, title, area {id, level, name}, status (open|closed), opened_at, closed_at, trigger_tube, case, expansion_round, retest_round"),
        "IncidentDetail": obj("An Incident plus members, orders, tasks, decisions, timeline, tubes, children and blockers"),
        "Task": obj("id, kind (retest|door_to_door|trace_household|trace_affiliation|environmental|pooled_retest), title, area, person, assignee {role, area, area_name}, target, status, created_at, done_at, done_by"),
        "Order": obj("id, kind (static_control|isolation_pending_retest|home_isolation), area, person, starts_at, ends_at, ordered_by, reason, lifted_at, lifted_by"),
        "Decision": obj("id, kind, person, status (proposed|confirmed|rejected), reason, proposed_at, proposed_by, decided_at, decided_by, decided_role, note, override_reason"),
        "LiveStatus": obj("incident, retests {members, negative, grey_zone, positive, pending}, retested, tubes_awaiting, expansion counts, compounds [{area, tally, covered_share}], proposed decisions, tasks_open, tasks_total, blockers, time_to_all_clear"),
        "Report": obj("incident, trigger, all_clear_at, time_to_all_clear, mobilisation, controls, expansion counts, communities, retests, decisions, isolations, cascades, savings, timeline, conclusion"),
        "Coverage": obj("area, round, total {roster, sampled, explained, missing}, levels [{level, areas}], buildings [{building, place, tally, missing, explained}]"),
        "PersonMark": obj("round, person, kind, note, at, by")
    })
}
