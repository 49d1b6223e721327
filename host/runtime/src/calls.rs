//! Calls into active plugins on behalf of the API, the UI, jobs and other plugins: queries,
//! record actions, HTTP routes, jobs and health — each only if the manifest declares it.

use crate::active::ActiveSet;
use crate::context::CallCtx;
use crate::exchange::{HttpRequest, HttpResponse};
use crate::failure::{CallError, PluginFailure};

impl ActiveSet {
    /// Asks a plugin one of the queries its manifest declares.
    pub fn ask(
        &self,
        id: &str,
        query: &str,
        args: &str,
        ctx: CallCtx,
    ) -> Result<String, CallError> {
        let p = self.require(id)?;
        if !p.manifest.queries.iter().any(|q| q.name == query) {
            return Err(CallError::Plugin(PluginFailure::NotFound(format!(
                "plugin '{id}' answers no query '{query}'"
            ))));
        }
        let args = args.to_string();
        self.call(&p, ctx, |i, s| i.answer(s, query, &args))
    }

    /// Runs a record action a plugin declares for the record's entity type.
    pub fn action(
        &self,
        id: &str,
        name: &str,
        entity: &str,
        record: i64,
        input: &str,
        ctx: CallCtx,
    ) -> Result<String, CallError> {
        let p = self.require(id)?;
        if !p
            .manifest
            .actions
            .iter()
            .any(|a| a.name == name && a.entity == entity)
        {
            return Err(CallError::Plugin(PluginFailure::NotFound(format!(
                "plugin '{id}' has no action '{name}' on '{entity}'"
            ))));
        }
        let input = input.to_string();
        self.call(&p, ctx, |i, s| i.action(s, name, entity, record, &input))
    }

    /// Serves a request to a plugin route, if the manifest declares one that matches.
    pub fn http(
        &self,
        id: &str,
        req: HttpRequest,
        ctx: CallCtx,
    ) -> Result<HttpResponse, CallError> {
        let p = self.require(id)?;
        let declared = p.manifest.routes.iter().any(|r| {
            r.method.eq_ignore_ascii_case(&req.method)
                && match r.path.strip_suffix("/*") {
                    Some(prefix) => {
                        req.path == prefix || req.path.starts_with(&format!("{prefix}/"))
                    }
                    None => r.path == req.path,
                }
        });
        if !declared {
            return Err(CallError::Plugin(PluginFailure::NotFound(format!(
                "plugin '{id}' has no route {} {}",
                req.method, req.path
            ))));
        }
        self.call(&p, ctx, |i, s| i.http(s, &req))
    }

    /// Calls one of a plugin's routes as an API client does: a JSON body, `Accept:
    /// application/json`, the answer parsed as JSON. A status other than 200 is an error
    /// naming it (used by the demo seeding and the benchmarks).
    pub fn call_json(
        &self,
        id: &str,
        method: &str,
        path_and_query: &str,
        body: &serde_json::Value,
        ctx: CallCtx,
    ) -> Result<serde_json::Value, CallError> {
        let (path, query) = path_and_query
            .split_once('?')
            .unwrap_or((path_and_query, ""));
        let req = HttpRequest {
            method: method.into(),
            path: path.into(),
            query: query.into(),
            headers: vec![
                ("content-type".into(), "application/json".into()),
                ("accept".into(), "application/json".into()),
            ],
            body: body.to_string().into_bytes(),
        };
        let resp = self.http(id, req, ctx)?;
        let text = String::from_utf8_lossy(&resp.body);
        if resp.status != 200 {
            return Err(CallError::Plugin(PluginFailure::Failed(format!(
                "{method} {path_and_query} answered {}: {text}",
                resp.status
            ))));
        }
        serde_json::from_str(&text).map_err(|e| {
            CallError::Plugin(PluginFailure::Failed(format!(
                "{method} {path_and_query} answered invalid JSON: {e}"
            )))
        })
    }

    /// Jobs of active plugins: `(plugin, job, interval)`.
    pub fn jobs(&self) -> Vec<(String, String, u64)> {
        self.list()
            .iter()
            .flat_map(|p| {
                p.manifest
                    .jobs
                    .iter()
                    .map(|j| (p.manifest.id.clone(), j.name.clone(), j.every_seconds))
            })
            .collect()
    }

    /// Calls a plugin's `health` export on a fresh instance (as every call runs).
    pub fn call_health(&self, id: &str) -> Result<(), CallError> {
        let p = self.require(id)?;
        self.call(&p, CallCtx::system(), |i, s| i.health(s))
    }
}
