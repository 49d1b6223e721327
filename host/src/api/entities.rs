//! Effective schemas, and the administrator's customisations: custom entity types, custom
//! fields, relabelling, hiding and layouts.

use super::extract::{ApiJson, ApiPath};
use crate::caller::Caller;
use crate::error::{ApiResult, ErrorBody};
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use qingguan_core::{Entity, EntityDef, FieldDef, FieldPatch, Label, Layout};
use serde::Deserialize;
use serde_json::Value;

/// An entity type as the API shows it (the effective schema names the company currency in
/// every currency field without one of its own).
fn entity_json(e: &Entity) -> Value {
    serde_json::to_value(e).unwrap_or(Value::Null)
}

fn visible(caller: &Caller, e: &Entity) -> bool {
    caller.access.is_admin() || (!e.retired && caller.access.permission(&e.name).read)
}

/// Effective schemas of every entity type the caller may read.
#[utoipa::path(get, path = "/entities", tag = "schema", security(("bearer" = [])),
    responses((status = 200, description = "Array of effective entity schemas", body = Value), (status = 401, body = ErrorBody)))]
pub async fn list_entities(State(state): State<AppState>, caller: Caller) -> Json<Value> {
    let schema = state.store().schema_for(&caller.access);
    let items: Vec<Value> = schema
        .entities()
        .iter()
        .filter(|e| visible(&caller, e))
        .map(entity_json)
        .collect();
    Json(Value::Array(items))
}

/// The effective schema of one entity type: fields (with origin, hidden, retired), layout.
#[utoipa::path(get, path = "/entities/{entity}", tag = "schema", security(("bearer" = [])),
    params(("entity" = String, Path, description = "Entity type name")),
    responses((status = 200, body = Value), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_entity(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(entity): ApiPath<String>,
) -> ApiResult<Json<Value>> {
    let schema = state.store().schema_for(&caller.access);
    let e = schema
        .entity(&entity)
        .ok_or_else(|| crate::error::ApiError::not_found(format!("no entity type '{entity}'")))?;
    if !visible(&caller, e) {
        return Err(crate::error::ApiError::forbidden(format!(
            "you may not read '{entity}'"
        )));
    }
    Ok(Json(entity_json(e)))
}

/// Create a custom entity type: `{"name", "label": {"en", "zh-CN"}, "fields": [...]}`.
#[utoipa::path(post, path = "/entities", tag = "schema", security(("bearer" = [])),
    request_body(content = Value, description = "Entity definition: name, label, fields, optional title_field, kanban_field, layout"),
    responses((status = 201, body = Value), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_entity(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(def): ApiJson<EntityDef>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let name = def.name.clone();
    state
        .blocking(move |s| s.create_entity(&caller.access, &def))
        .await?;
    let schema = state.store().schema();
    Ok((
        StatusCode::CREATED,
        Json(schema.entity(&name).map(entity_json).unwrap_or_default()),
    ))
}

/// Add a custom field (a real, indexed column) to any entity type.
#[utoipa::path(post, path = "/entities/{entity}/fields", tag = "schema", security(("bearer" = [])),
    params(("entity" = String, Path, description = "Entity type name")),
    request_body(content = Value, description = "Field definition: name, type, label, required, unique, min, max, options, target, scale, indexed, help"),
    responses((status = 201, body = Value), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn add_field(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(entity): ApiPath<String>,
    ApiJson(def): ApiJson<FieldDef>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let name = def.name.clone();
    let e2 = entity.clone();
    state
        .blocking(move |s| s.add_field(&caller.access, &e2, &def))
        .await?;
    let schema = state.store().schema();
    let f = schema.entity(&entity).and_then(|e| e.field(&name));
    Ok((
        StatusCode::CREATED,
        Json(serde_json::to_value(f).unwrap_or_default()),
    ))
}

/// Relabel (per locale), hide or show, make required, or give a default value to a field.
#[utoipa::path(patch, path = "/entities/{entity}/fields/{field}", tag = "schema", security(("bearer" = [])),
    params(("entity" = String, Path, description = "Entity type name"), ("field" = String, Path, description = "Field name")),
    request_body(content = Value, description = "{\"label\": {\"en\", \"zh-CN\"}, \"hidden\": bool, \"required\": bool, \"help\": {...}, \"default\": value or null}"),
    responses((status = 200, body = Value), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn patch_field(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((entity, field)): ApiPath<(String, String)>,
    ApiJson(patch): ApiJson<FieldPatch>,
) -> ApiResult<Json<Value>> {
    let (e2, f2) = (entity.clone(), field.clone());
    state
        .blocking(move |s| s.patch_field(&caller.access, &e2, &f2, &patch))
        .await?;
    let schema = state.store().schema();
    let f = schema.entity(&entity).and_then(|e| e.field(&field));
    Ok(Json(serde_json::to_value(f).unwrap_or_default()))
}

/// Set the form sections and list columns.
#[utoipa::path(put, path = "/entities/{entity}/layout", tag = "schema", security(("bearer" = [])),
    params(("entity" = String, Path, description = "Entity type name")),
    request_body(content = Value, description = "{\"sections\": [{\"title\": {\"en\", \"zh-CN\"}, \"fields\": [...]}], \"list_columns\": [...]}"),
    responses((status = 200, body = Value), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn put_layout(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(entity): ApiPath<String>,
    ApiJson(layout): ApiJson<Layout>,
) -> ApiResult<Json<Value>> {
    let e2 = entity.clone();
    state
        .blocking(move |s| s.set_layout(&caller.access, &e2, &layout))
        .await?;
    let schema = state.store().schema();
    Ok(Json(
        schema.entity(&entity).map(entity_json).unwrap_or_default(),
    ))
}

/// Changes to an entity type itself.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EntityPatch {
    /// New label.
    #[schema(value_type = Object)]
    pub label: Label,
}

/// Relabel an entity type.
#[utoipa::path(patch, path = "/entities/{entity}", tag = "schema", security(("bearer" = [])),
    params(("entity" = String, Path, description = "Entity type name")), request_body = EntityPatch,
    responses((status = 200, body = Value), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn patch_entity(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(entity): ApiPath<String>,
    ApiJson(p): ApiJson<EntityPatch>,
) -> ApiResult<Json<Value>> {
    let e2 = entity.clone();
    state
        .blocking(move |s| s.set_entity_label(&caller.access, &e2, &p.label))
        .await?;
    let schema = state.store().schema();
    Ok(Json(
        schema.entity(&entity).map(entity_json).unwrap_or_default(),
    ))
}

/// What a rebuilt search index holds.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct Reindexed {
    /// The entity type.
    pub entity: String,
    /// Records indexed.
    pub indexed: usize,
}

/// Rebuild an entity type's full-text search index from its records (administrators).
#[utoipa::path(post, path = "/entities/{entity}/reindex", tag = "schema", security(("bearer" = [])),
    params(("entity" = String, Path, description = "Entity type name")),
    responses((status = 200, body = Reindexed), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn reindex(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(entity): ApiPath<String>,
) -> ApiResult<Json<Reindexed>> {
    let e2 = entity.clone();
    let indexed = state
        .blocking(move |s| s.reindex(&caller.access, &e2))
        .await?;
    Ok(Json(Reindexed { entity, indexed }))
}
