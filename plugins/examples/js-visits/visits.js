// A visit log written in JavaScript: a hook that checks visits, routes that log and summarise
// them as the calling user, an atomic counter, and an uncaught exception for the fault path.
//
// Build (see docs/plugin-guide.md, "Other languages"):
//
//   jco componentize visits.js --wit ../../../plugin-sdk/wit/v1.2.0 --world-name plugin \
//     --backend quickjs --disable http fetch-event -o visits.wasm
//   qingguan plugin pack visits.wasm --manifest qingguan.toml -o js_visits.wasm
//
// WIT results map to exceptions: return the value for `ok`, throw `{tag, val}` for an error
// (`{tag: "invalid", val: {message, fields: [{field, message}]}}`). With the QuickJS backend
// s64 values are plain numbers (the StarlingMonkey backend uses BigInt).

import {
  context,
  createRecord,
  kvIncrement,
  kvSet,
  queryRecords,
} from "qingguan:plugin/host@1.2.0";

// QuickJS has no TextEncoder: UTF-8 by hand.
function utf8(text) {
  const out = [];
  for (const ch of text) {
    const c = ch.codePointAt(0);
    if (c < 0x80) out.push(c);
    else if (c < 0x800) out.push(0xc0 | (c >> 6), 0x80 | (c & 63));
    else if (c < 0x10000) out.push(0xe0 | (c >> 12), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
    else out.push(0xf0 | (c >> 18), 0x80 | ((c >> 12) & 63), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
  }
  return new Uint8Array(out);
}

function fromUtf8(bytes) {
  let text = "";
  for (let i = 0; i < bytes.length; ) {
    const b = bytes[i];
    const n = b < 0x80 ? 1 : b < 0xe0 ? 2 : b < 0xf0 ? 3 : 4;
    let c = n === 1 ? b : b & (0xff >> (n + 1));
    for (let k = 1; k < n; k++) c = (c << 6) | (bytes[i + k] & 63);
    text += String.fromCodePoint(c);
    i += n;
  }
  return text;
}

function respond(status, body) {
  return {
    status,
    headers: [["content-type", "application/json"]],
    body: utf8(JSON.stringify(body)),
  };
}

function invalid(message, field, why) {
  return { tag: "invalid", val: { message, fields: [{ field, message: why }] } };
}

function notFound(what) {
  return { tag: "not-found", val: what };
}

export const guest = {
  install() {
    kvSet("installed", utf8("javascript"));
  },
  upgrade(_from) {},
  uninstall() {},
  health() {},
  beforeWrite(_op, _entity, _before, fields) {
    const values = JSON.parse(fields);
    if (values.minutes !== undefined && values.minutes !== null && values.minutes <= 0) {
      const zh = context().locale === "zh-CN";
      throw invalid("visit refused", "minutes", zh ? "时长必须大于零" : "must be more than zero");
    }
    if (typeof values.subject === "string" && values.subject !== values.subject.trim()) {
      values.subject = values.subject.trim();
      return JSON.stringify(values);
    }
    return undefined;
  },
  afterWrite(_op, _entity, _written) {},
  action(name, _entity, _id, _input) {
    throw notFound(`no action ${name}`);
  },
  jobStep(name, _cursor) {
    throw notFound(`no job ${name}`);
  },
  http(request) {
    if (request.method === "POST" && request.path === "/log") {
      const body = fromUtf8(request.body) || "{}";
      let record;
      try {
        record = createRecord("js_visit", body, "caller");
      } catch (e) {
        return respond(422, { error: e.payload?.tag ?? e.tag ?? String(e) });
      }
      const logged = kvIncrement("visits_logged", 1);
      return respond(201, { id: Number(record.id), logged: Number(logged) });
    }
    if (request.method === "GET" && request.path === "/summary") {
      const page = queryRecords("js_visit", {
        filters: [{ field: "minutes", condition: { tag: "gt", val: { tag: "integer", val: 0 } } }],
        sort: { field: "id", descending: false },
        limit: 200,
        cursor: undefined,
        search: undefined,
        scope: "caller",
      });
      const visits = page.items.map((r) => JSON.parse(r.fields));
      const perCustomer = {};
      for (const v of visits) {
        const key = String(v.customer ?? null);
        perCustomer[key] = (perCustomer[key] ?? 0) + (v.minutes ?? 0);
      }
      return respond(200, {
        visits: visits.length,
        minutes: visits.reduce((n, v) => n + (v.minutes ?? 0), 0),
        per_customer: perCustomer,
        user: context().username ?? null,
      });
    }
    if (request.method === "POST" && request.path === "/boom") {
      throw new Error("the visit log could not add up the minutes");
    }
    return respond(404, { error: "not_found" });
  },
  answer(query, _args) {
    throw notFound(query);
  },
  event(_name, _payload) {},
};
