"""A visit log written in Python: a hook that checks visits, routes that log and summarise
them as the calling user, an atomic counter, and an uncaught exception for the fault path.

Build (see docs/plugin-guide.md, "Other languages"):

    componentize-py -d ../../../plugin-sdk/wit/v1.2.0 -w plugin componentize app -o visits.wasm
    qingguan plugin pack visits.wasm --manifest qingguan.toml -o py_visits.wasm
"""

import json

from componentize_py_types import Err
from wit_world import exports
from wit_world.imports import host, types


def invalid(message, field, why):
    """A refusal with a reason beside one field: the user sees it in the form."""
    return Err(types.PluginError_Invalid(types.InvalidInput(
        message=message, fields=[types.FieldError(field=field, message=why)])))


def respond(status, body):
    return types.HttpResponse(
        status=status,
        headers=[("content-type", "application/json")],
        body=json.dumps(body, ensure_ascii=False).encode("utf-8"),
    )


def query(entity, filters, limit=200):
    """One page of records the calling user may see."""
    page = host.query_records(entity, types.RecordQuery(
        filters=filters, sort=types.Sort(field="id", descending=False), limit=limit,
        cursor=None, search=None, scope=types.Scope.CALLER))
    return [json.loads(r.fields) | {"id": r.id} for r in page.items]


class Guest(exports.Guest):
    def install(self):
        host.kv_set("installed", b"python")

    def upgrade(self, from_version):
        pass

    def uninstall(self):
        pass

    def health(self):
        pass

    def before_write(self, op, entity, before, fields):
        values = json.loads(fields)
        minutes = values.get("minutes")
        if minutes is not None and minutes <= 0:
            zh = host.context().locale == "zh-CN"
            raise invalid("visit refused", "minutes",
                          "时长必须大于零" if zh else "must be more than zero")
        subject = values.get("subject")
        if isinstance(subject, str) and subject != subject.strip():
            values["subject"] = subject.strip()
            return json.dumps(values)
        return None

    def after_write(self, op, entity, written):
        pass

    def action(self, name, entity, id, input):
        raise Err(types.PluginError_NotFound(f"no action {name}"))

    def job_step(self, name, cursor):
        raise Err(types.PluginError_NotFound(f"no job {name}"))

    def http(self, request):
        if request.method == "POST" and request.path == "/log":
            body = json.loads(bytes(request.body).decode("utf-8") or "{}")
            try:
                record = host.create_record("py_visit", json.dumps(body), types.Scope.CALLER)
            except Err as e:
                kind = type(e.value).__name__.removeprefix("PluginError_").lower()
                return respond(422, {"error": kind})
            logged = host.kv_increment("visits_logged", 1)
            return respond(201, {"id": record.id, "logged": logged})
        if request.method == "GET" and request.path == "/summary":
            visits = query("py_visit", [types.Filter(
                field="minutes", condition=types.Condition_Gt(types.Value_Integer(0)))])
            per_customer = {}
            for v in visits:
                key = str(v.get("customer"))
                per_customer[key] = per_customer.get(key, 0) + v.get("minutes", 0)
            return respond(200, {
                "visits": len(visits),
                "minutes": sum(v.get("minutes", 0) for v in visits),
                "per_customer": per_customer,
                "user": host.context().username,
            })
        if request.method == "POST" and request.path == "/boom":
            raise ValueError("the visit log could not add up the minutes")
        return respond(404, {"error": "not_found"})

    def answer(self, query, args):
        raise Err(types.PluginError_NotFound(query))

    def event(self, name, payload):
        pass
