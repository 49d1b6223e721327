//! Reaching people and other systems (contract 1.3): notices in people's inboxes and HTTP
//! requests to origins the manifest names. Both are capabilities an administrator approves:
//!
//! ```toml
//! [capabilities]
//! notify = true
//! outbound_hosts = ["https://api.example.com", "http://10.0.0.5:8080"]
//! ```
//!
//! ```no_run
//! use qingguan_plugin_sdk::outreach::{self, Notice};
//! # fn main() -> qingguan_plugin_sdk::Result<()> {
//! outreach::notify_role(
//!     "manager",
//!     &Notice::new("Stock of A4 paper is below its reorder point")
//!         .zh("A4 纸库存低于补货点")
//!         .link("/e/inv_product/7"),
//! )?;
//! let rate = outreach::Fetch::get("https://api.example.com/rates?base=CNY").send()?;
//! if rate.status == 200 {
//!     let _json = rate.json()?;
//! }
//! # Ok(())
//! # }
//! ```
//!
//! Notices are written with the call's other writes: a call that fails sends none. A request
//! is sent at once (a failing call cannot take it back), is never redirected, gets what is
//! left of the call's time (at most ten seconds) and an answer of at most 1 MiB.

use crate::bindings::qingguan::plugin1_3_0::outreach as imp;
use crate::{Error, Result, Value};

/// What a notice says, in English and Chinese, and where it leads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    en: String,
    zh: String,
    link: Option<String>,
}

impl Notice {
    /// A notice in English (at most 500 characters); readers of Chinese see it too unless
    /// [`Notice::zh`] gives their words.
    pub fn new(en: impl Into<String>) -> Notice {
        Notice {
            en: en.into(),
            zh: String::new(),
            link: None,
        }
    }

    /// The Chinese text.
    pub fn zh(mut self, text: impl Into<String>) -> Notice {
        self.zh = text.into();
        self
    }

    /// A path in the application to open (`/e/customer/42`); without one, the inbox.
    pub fn link(mut self, path: impl Into<String>) -> Notice {
        self.link = Some(path.into());
        self
    }

    fn wire(&self) -> imp::Notice {
        imp::Notice {
            en: self.en.clone(),
            zh_cn: self.zh.clone(),
            link: self.link.clone(),
        }
    }
}

/// Notifies these people (user ids): all of them, or — when one is unknown or inactive —
/// nobody (`Error::Invalid` naming `users`).
pub fn notify_users(users: &[i64], notice: &Notice) -> Result<()> {
    Ok(imp::notify_users(users, &notice.wire())?)
}

/// Notifies every active user with this role; returns how many were notified.
pub fn notify_role(role: &str, notice: &Notice) -> Result<u32> {
    Ok(imp::notify_role(role, &notice.wire())?)
}

/// An outbound HTTP request, built and then [sent](Fetch::send).
#[derive(Debug, Clone)]
pub struct Fetch {
    method: String,
    url: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Fetch {
    /// A request with any method (GET, POST, PUT, PATCH, DELETE, HEAD).
    pub fn new(method: &str, url: impl Into<String>) -> Fetch {
        Fetch {
            method: method.to_string(),
            url: url.into(),
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    /// A GET request.
    pub fn get(url: impl Into<String>) -> Fetch {
        Fetch::new("GET", url)
    }

    /// A POST request.
    pub fn post(url: impl Into<String>) -> Fetch {
        Fetch::new("POST", url)
    }

    /// Adds a header (Host, Content-Length and connection headers are the host's to set).
    pub fn header(mut self, name: &str, value: &str) -> Fetch {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }

    /// A JSON body, with its content type.
    pub fn json(self, body: &Value) -> Fetch {
        let mut f = self.header("content-type", "application/json");
        f.body = body.to_string().into_bytes();
        f
    }

    /// A body as it is.
    pub fn body(mut self, bytes: impl Into<Vec<u8>>) -> Fetch {
        self.body = bytes.into();
        self
    }

    /// Sends it. `Error::Denied` when the origin was not approved, `Error::Failed` when it
    /// could not be reached in time, `Error::Conflict` when the answer is over 1 MiB; any HTTP
    /// status is an answer.
    pub fn send(self) -> Result<Answer> {
        let r = imp::fetch(&imp::OutboundRequest {
            method: self.method,
            url: self.url,
            headers: self.headers,
            body: self.body,
        })?;
        Ok(Answer {
            status: r.status,
            headers: r.headers,
            body: r.body,
        })
    }
}

/// What the other side answered.
#[derive(Debug, Clone)]
pub struct Answer {
    /// The HTTP status.
    pub status: u16,
    /// Headers, names in lower case.
    pub headers: Vec<(String, String)>,
    /// The body (at most 1 MiB).
    pub body: Vec<u8>,
}

impl Answer {
    /// A header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body as text (invalid UTF-8 replaced).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body as JSON.
    pub fn json(&self) -> Result<Value> {
        serde_json::from_slice(&self.body)
            .map_err(|e| Error::failed(format!("the answer is not JSON: {e}")))
    }
}
