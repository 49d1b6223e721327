//! The OpenAPI document: generated from the handlers' annotations, then extended at request
//! time with a JSON Schema per entity type (from the effective schema, so custom fields and
//! plugin entity types are described too).

use crate::state::AppState;
use axum::extract::State;
use axum::Json;
use qingguan_core::{Entity, FieldType};
use serde_json::{json, Map, Value};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ComponentsBuilder, InfoBuilder, OpenApi, OpenApiBuilder, ServerBuilder};

/// The document's fixed parts: info, server prefix, bearer security.
pub fn base() -> OpenApi {
    OpenApiBuilder::new()
        .info(
            InfoBuilder::new()
                .title("Qingguan API")
                .version(env!("CARGO_PKG_VERSION"))
                .description(Some(
                    "Self-hosted CRM. Records of every entity type, schema customisation, search. \
                     Errors: {\"error\": {\"code\", \"message\", \"fields\"}}.",
                ))
                .build(),
        )
        .servers(Some(vec![ServerBuilder::new().url(super::PREFIX).build()]))
        .components(Some(
            ComponentsBuilder::new()
                .security_scheme(
                    "bearer",
                    SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
                )
                .build(),
        ))
        .build()
}

/// Adds to every operation the statuses the shared extractors and layers can answer, so that
/// the document lists every status an operation can return without each handler repeating
/// them: 401 where a session is required; 403 for cookie-authenticated changes without the
/// CSRF token; 400 where there are path or query parameters or a body (malformed JSON, a bad
/// parameter, path or header); 413 and 422 where there is a body (too large; wrong shape);
/// 429 where a password is checked (login, user creation, password changes).
pub fn with_common_responses(mut doc: Value) -> Value {
    let error = |why: &str| {
        json!({"description": why,
               "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}})
    };
    let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) else {
        return doc;
    };
    for (path, item) in paths.iter_mut() {
        let Some(item) = item.as_object_mut() else {
            continue;
        };
        for (method, op) in item.iter_mut() {
            let Some(op) = op.as_object_mut() else {
                continue;
            };
            let secured = op
                .get("security")
                .and_then(Value::as_array)
                .is_some_and(|s| !s.is_empty());
            let has_params = op
                .get("parameters")
                .and_then(Value::as_array)
                .is_some_and(|p| !p.is_empty())
                || path.contains('{');
            let has_body = op.contains_key("requestBody");
            let checks_password = path == "/auth/login"
                || (path == "/users" && method == "post")
                || path.ends_with("/password");
            let mut add = Vec::new();
            if secured {
                add.push(("401", "not signed in, or the session expired"));
                if method != "get" {
                    add.push(("403", "not allowed, or a cookie session sent no CSRF token"));
                }
            }
            if has_params || has_body {
                add.push(("400", "a malformed parameter, path, header or JSON body"));
            }
            if has_body {
                add.push(("413", "the body is larger than the server accepts"));
                add.push(("422", "the body does not have the expected shape"));
            }
            if checks_password {
                add.push((
                    "429",
                    "too many failed logins or password checks: retry after `Retry-After`",
                ));
            }
            let responses = op
                .entry("responses")
                .or_insert_with(|| json!({}))
                .as_object_mut();
            if let Some(responses) = responses {
                for (status, why) in add {
                    responses
                        .entry(status.to_string())
                        .or_insert_with(|| error(why));
                }
            }
        }
    }
    doc
}

fn field_schema(kind: FieldType) -> Value {
    let info = kind.info();
    let (ty, format) = info.json;
    let mut s = json!({"type": ty});
    if let Some(f) = format {
        s["format"] = json!(f);
    }
    if info.multi {
        s["items"] = json!({"type": "string"});
    }
    if info.reference {
        s["description"] = json!("record id");
    }
    if format == Some("decimal") {
        s["example"] = json!("1234.50");
    }
    s
}

/// JSON Schema of one entity type's records.
pub fn entity_schema(e: &Entity) -> Value {
    let mut props = Map::new();
    for (k, t) in [
        ("id", "integer"),
        ("version", "integer"),
        ("owner", "integer"),
        ("created_by", "integer"),
        ("created_at", "string"),
        ("updated_by", "integer"),
        ("updated_at", "string"),
    ] {
        props.insert(k.into(), json!({"type": t, "readOnly": k != "owner"}));
    }
    let mut required = Vec::new();
    for f in &e.fields {
        let mut s = field_schema(f.def.kind);
        if let Some(m) = s.as_object_mut() {
            m.insert("title".into(), json!(f.def.label.en));
            m.insert("nullable".into(), json!(!f.def.required));
            if !f.def.options.is_empty() {
                let values: Vec<&str> = f.def.options.iter().map(|o| o.value.as_str()).collect();
                if f.def.kind.info().multi {
                    m.insert("items".into(), json!({"type": "string", "enum": values}));
                } else {
                    m.insert("enum".into(), json!(values));
                }
            }
            if f.def.readonly {
                // Set by the system (the owning plugin refuses it from people).
                m.insert("readOnly".into(), json!(true));
            }
            if f.retired {
                m.insert("readOnly".into(), json!(true));
                m.insert("deprecated".into(), json!(true));
            }
        }
        if f.def.required && !f.hidden && !f.retired {
            required.push(f.def.name.clone());
        }
        props.insert(f.def.name.clone(), s);
    }
    json!({
        "type": "object",
        "title": e.label.en,
        "description": format!("{} ({}) records, origin {}", e.label.en, e.label.zh_cn, e.origin.as_string()),
        "properties": props,
        "required": required,
        "additionalProperties": false,
    })
}

/// `GET /api/v1/openapi.json`.
pub async fn serve(State(state): State<AppState>) -> Json<Value> {
    let mut doc = match state.openapi() {
        Some(doc) => doc.clone(),
        None => serde_json::to_value(base()).unwrap_or_default(),
    };
    let schema = state.store().schema();
    if let Some(schemas) = doc
        .pointer_mut("/components")
        .and_then(Value::as_object_mut)
        .map(|c| c.entry("schemas").or_insert_with(|| json!({})))
        .and_then(Value::as_object_mut)
    {
        for e in schema.entities() {
            schemas.insert(format!("record.{}", e.name), entity_schema(e));
        }
    }
    Json(doc)
}
