//! Values exchanged with a guest in the runtime's own types, whichever contract version the
//! guest was built against: HTTP requests and responses of plugin routes, and job progress.

/// An HTTP request to one of a plugin's routes (path relative to the plugin's prefix).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HttpRequest {
    /// `GET`, `POST`, …
    pub method: String,
    /// The path under the plugin's prefix, starting with `/`.
    pub path: String,
    /// The query string, without `?`.
    pub query: String,
    /// Request headers.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

/// A plugin route's answer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HttpResponse {
    /// Status code.
    pub status: u16,
    /// Response headers.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

/// Where one step of a job left off.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JobProgress {
    /// Where the next step starts; `None` when the job is finished.
    pub cursor: Option<String>,
    /// Units of work done so far.
    pub done: u64,
    /// Units in all, when the plugin knows.
    pub total: Option<u64>,
}
