//! HTTP requests to a plugin's routes and its responses.

use crate::bindings::qingguan::plugin1_2_0::types as wit;
use serde_json::Value;

/// A request to `/api/v1/plugins/{id}{path}`; `path` starts with `/`.
///
/// ```no_run
/// # use qingguan_plugin_sdk::*;
/// # let req: Request = unimplemented!();
/// let limit: usize = req.query_param("limit").and_then(|v| v.parse().ok()).unwrap_or(10);
/// ```
#[derive(Debug, Clone)]
pub struct Request {
    /// `GET`, `POST`, ….
    pub method: String,
    /// Path below the plugin's prefix.
    pub path: String,
    /// Raw query string (without `?`).
    pub query: String,
    /// Request headers (lower-case names).
    pub headers: Vec<(String, String)>,
    /// Body bytes.
    pub body: Vec<u8>,
}

impl Request {
    /// A query parameter, percent-decoded.
    ///
    /// ```
    /// # use qingguan_plugin_sdk::Request;
    /// let r = Request { method: "GET".into(), path: "/".into(), query: "q=a%20b&n=1".into(), headers: vec![], body: vec![] };
    /// assert_eq!(r.query_param("q").as_deref(), Some("a b"));
    /// ```
    pub fn query_param(&self, name: &str) -> Option<String> {
        self.query.split('&').find_map(|kv| {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            (decode(k) == name).then(|| decode(v))
        })
    }

    /// The body parsed as JSON.
    ///
    /// ```
    /// # use qingguan_plugin_sdk::Request;
    /// let r = Request { method: "POST".into(), path: "/".into(), query: String::new(), headers: vec![], body: br#"{"a":1}"#.to_vec() };
    /// assert_eq!(r.json().unwrap()["a"], 1);
    /// ```
    pub fn json(&self) -> crate::Result<Value> {
        serde_json::from_slice(&self.body)
            .map_err(|e| crate::Error::invalid(format!("body is not JSON: {e}")))
    }

    /// Whether the caller asked for JSON (`Accept: application/json`) rather than a page.
    ///
    /// ```
    /// # use qingguan_plugin_sdk::Request;
    /// let r = Request { method: "GET".into(), path: "/".into(), query: String::new(),
    ///     headers: vec![("Accept".into(), "application/json".into())], body: vec![] };
    /// assert!(r.wants_json());
    /// ```
    pub fn wants_json(&self) -> bool {
        self.header("accept")
            .is_some_and(|a| a.contains("application/json"))
    }

    /// A header's value (names compare case-insensitively).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body as form fields, in order: a url-encoded form (what a `<form method="post">`
    /// on a plugin page sends), or a JSON object whose values become strings (numbers and
    /// booleans as written, null as empty), so that one handler serves the page and the API.
    ///
    /// ```
    /// # use qingguan_plugin_sdk::Request;
    /// let r = Request { method: "POST".into(), path: "/".into(), query: String::new(), headers: vec![], body: b"a=1&b=x+y%21".to_vec() };
    /// assert_eq!(r.form().unwrap(), vec![("a".to_string(), "1".to_string()), ("b".into(), "x y!".into())]);
    /// let j = Request { headers: vec![("content-type".into(), "application/json".into())], body: br#"{"n":2,"s":"t"}"#.to_vec(), ..r };
    /// assert_eq!(j.form().unwrap(), vec![("n".to_string(), "2".to_string()), ("s".into(), "t".into())]);
    /// ```
    pub fn form(&self) -> crate::Result<Vec<(String, String)>> {
        let is_json = self
            .header("content-type")
            .is_some_and(|t| t.starts_with("application/json"));
        if is_json {
            let Value::Object(map) = self.json()? else {
                return Err(crate::Error::invalid("the body must be a JSON object"));
            };
            return Ok(map
                .into_iter()
                .map(|(k, v)| {
                    let s = match v {
                        Value::String(s) => s,
                        Value::Null => String::new(),
                        other => other.to_string(),
                    };
                    (k, s)
                })
                .collect());
        }
        let text = std::str::from_utf8(&self.body)
            .map_err(|_| crate::Error::invalid("the form is not UTF-8"))?;
        Ok(text
            .split('&')
            .filter(|kv| !kv.is_empty())
            .map(|kv| {
                let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
                (decode(k), decode(v))
            })
            .collect())
    }
}

/// A value for a query string (a link's `?cursor=…`), percent-encoded: what
/// [`Request::query_param`] reads back.
///
/// ```
/// # use qingguan_plugin_sdk::{http::encode, Request};
/// assert_eq!(encode("a b/é"), "a%20b%2F%C3%A9");
/// let r = Request { method: "GET".into(), path: "/".into(), query: format!("c={}", encode("x=1&y")), headers: vec![], body: vec![] };
/// assert_eq!(r.query_param("c").as_deref(), Some("x=1&y"));
/// ```
pub fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                match std::str::from_utf8(&bytes[i + 1..i + 3])
                    .ok()
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                    .ok_or(())
                {
                    Ok(b) => {
                        out.push(b);
                        i += 2;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

impl From<wit::HttpRequest> for Request {
    fn from(r: wit::HttpRequest) -> Self {
        Request {
            method: r.method,
            path: r.path,
            query: r.query,
            headers: r.headers,
            body: r.body,
        }
    }
}

/// A response from a plugin route.
///
/// ```
/// use qingguan_plugin_sdk::{Response, json};
/// let r = Response::json(&json!({"ok": true}));
/// assert_eq!(r.status, 200);
/// ```
#[derive(Debug, Clone)]
pub struct Response {
    /// HTTP status.
    pub status: u16,
    /// Headers (`content-type` at least).
    pub headers: Vec<(String, String)>,
    /// Body bytes.
    pub body: Vec<u8>,
}

impl Response {
    /// 200 with a JSON body.
    ///
    /// ```
    /// # use qingguan_plugin_sdk::{Response, json};
    /// assert_eq!(Response::json(&json!(1)).body, b"1");
    /// ```
    pub fn json(v: &Value) -> Response {
        Response {
            status: 200,
            headers: vec![("content-type".into(), "application/json".into())],
            body: v.to_string().into_bytes(),
        }
    }

    /// A status with a JSON body (an error with its field reasons, say).
    ///
    /// ```
    /// # use qingguan_plugin_sdk::{Response, json};
    /// assert_eq!(Response::json_status(422, &json!({"error": "no"})).status, 422);
    /// ```
    pub fn json_status(status: u16, v: &Value) -> Response {
        Response {
            status,
            ..Response::json(v)
        }
    }

    /// An error as a JSON answer: `{"error": {code, message, fields}}` with the status of its
    /// kind (404, 403, 422, 409, 500). A route answering 400 or more rolls its call back.
    ///
    /// ```
    /// # use qingguan_plugin_sdk::{Error, Response};
    /// let r = Response::from_error(&Error::invalid("check the amount").field("amount", "too big"));
    /// assert_eq!(r.status, 422);
    /// ```
    pub fn from_error(e: &crate::Error) -> Response {
        use crate::Error;
        let (status, code) = match e {
            Error::NotFound(_) => (404, "not_found"),
            Error::Denied(_) => (403, "forbidden"),
            Error::Invalid { .. } => (422, "rejected"),
            Error::Stale(_) => (409, "stale_version"),
            Error::Unique { .. } => (409, "unique"),
            Error::Conflict(_) => (409, "conflict"),
            Error::Failed(_) => (500, "plugin_error"),
        };
        let (message, fields) = match e {
            Error::Invalid { message, fields } => (
                message.clone(),
                fields
                    .iter()
                    .map(|(k, v)| (k.clone(), Value::from(v.clone())))
                    .collect::<serde_json::Map<String, Value>>(),
            ),
            Error::Unique { field, message } => (
                message.clone(),
                serde_json::Map::from_iter([(field.clone(), Value::from(message.clone()))]),
            ),
            other => (other.to_string(), serde_json::Map::new()),
        };
        Response::json_status(
            status,
            &serde_json::json!({"error": {"code": code, "message": message, "fields": fields}}),
        )
    }

    /// 200 with a body of the given content type (for example an SVG chart).
    ///
    /// ```
    /// # use qingguan_plugin_sdk::Response;
    /// let r = Response::with_type("image/svg+xml", "<svg/>");
    /// assert_eq!(r.headers[0].1, "image/svg+xml");
    /// ```
    pub fn with_type(content_type: &str, body: impl Into<Vec<u8>>) -> Response {
        Response {
            status: 200,
            headers: vec![("content-type".into(), content_type.into())],
            body: body.into(),
        }
    }

    /// An empty response with a status.
    ///
    /// ```
    /// # use qingguan_plugin_sdk::Response;
    /// assert_eq!(Response::status(404).status, 404);
    /// ```
    pub fn status(status: u16) -> Response {
        Response {
            status,
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    /// 303 See Other to another of the plugin's routes (`/page?x=1`), the usual answer to a
    /// successful form post; the web UI follows it to the plugin page at that path.
    ///
    /// ```
    /// # use qingguan_plugin_sdk::Response;
    /// assert_eq!(Response::redirect("/me").headers[0], ("location".to_string(), "/me".to_string()));
    /// ```
    pub fn redirect(location: &str) -> Response {
        Response {
            status: 303,
            headers: vec![("location".into(), location.into())],
            body: Vec::new(),
        }
    }

    /// A status with an HTML body (for example a form shown again with its errors).
    ///
    /// ```
    /// # use qingguan_plugin_sdk::Response;
    /// assert_eq!(Response::html(422, "<p>no</p>").status, 422);
    /// ```
    pub fn html(status: u16, body: impl Into<Vec<u8>>) -> Response {
        Response {
            status,
            headers: vec![("content-type".into(), "text/html; charset=utf-8".into())],
            body: body.into(),
        }
    }
}

impl From<Response> for wit::HttpResponse {
    fn from(r: Response) -> Self {
        wit::HttpResponse {
            status: r.status,
            headers: r.headers,
            body: r.body,
        }
    }
}
