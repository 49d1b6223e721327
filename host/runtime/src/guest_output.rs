//! A guest's standard output and error: kept in memory, the last few KiB of each call (a
//! Python traceback, a JavaScript exception, a Rust panic message), so that the runtime can log
//! them tagged with the plugin and the call and put the last line into a fault's reason.
//! Writing never fails and never blocks: older output is dropped, not the plugin's call.

use bytes::Bytes;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::p2::{OutputStream, Pollable, StreamError};

/// Bytes of output kept per call (the most recent).
pub const KEPT: usize = 8 * 1024;

/// The output of one call (stdout and stderr together, in order).
#[derive(Debug, Clone, Default)]
pub struct GuestOutput(Arc<Mutex<Vec<u8>>>);

impl GuestOutput {
    fn push(&self, bytes: &[u8]) {
        let mut buf = self.0.lock().unwrap_or_else(|e| e.into_inner());
        buf.extend_from_slice(bytes);
        if buf.len() > KEPT {
            let cut = buf.len() - KEPT;
            buf.drain(..cut);
        }
    }

    /// What the call wrote (its most recent [`KEPT`] bytes), as text.
    pub fn text(&self) -> String {
        let buf = self.0.lock().unwrap_or_else(|e| e.into_inner());
        String::from_utf8_lossy(&buf).into_owned()
    }
}

/// The line of a guest's output that names why it failed, shortened to 300 characters: a
/// JavaScript exception's message (QuickJS prints `Exception { message: Some("…") … }`), else
/// the last `SomethingError: …` line (a Python traceback's last line, a JavaScript `Error:`),
/// else what follows a Rust `panicked at …` line, else the last line that says something.
pub fn cause_line(text: &str) -> Option<String> {
    let short = |s: &str| -> String { s.trim().chars().take(300).collect() };
    if let Some(start) = text.rfind("message: Some(\"") {
        let rest = &text[start + "message: Some(\"".len()..];
        if let Some(end) = rest.find("\")") {
            return Some(short(&rest[..end]));
        }
    }
    let lines: Vec<&str> = text.lines().map(str::trim).collect();
    let is_error = |l: &str| {
        let head = l.split(':').next().unwrap_or_default();
        l.contains(':')
            && !head.is_empty()
            && head
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
            && (head.ends_with("Error") || head.ends_with("Exception"))
    };
    if let Some(l) = lines.iter().rev().find(|l| is_error(l)) {
        return Some(short(l));
    }
    if let Some(i) = lines.iter().rposition(|l| l.contains("panicked at")) {
        if let Some(next) = lines.get(i + 1).filter(|l| !l.is_empty()) {
            return Some(short(next));
        }
    }
    lines
        .iter()
        .rev()
        .find(|l| !l.is_empty() && !l.starts_with("note: run with `RUST_BACKTRACE"))
        .map(|l| short(l))
}

impl IsTerminal for GuestOutput {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for GuestOutput {
    fn p2_stream(&self) -> Box<dyn OutputStream> {
        Box::new(self.clone())
    }
    fn async_stream(&self) -> Box<dyn tokio::io::AsyncWrite + Send + Sync> {
        Box::new(self.clone())
    }
}

#[wasmtime_wasi::async_trait]
impl OutputStream for GuestOutput {
    fn write(&mut self, bytes: Bytes) -> Result<(), StreamError> {
        self.push(&bytes);
        Ok(())
    }
    fn flush(&mut self) -> Result<(), StreamError> {
        Ok(())
    }
    fn check_write(&mut self) -> Result<usize, StreamError> {
        Ok(64 * 1024)
    }
}

#[wasmtime_wasi::async_trait]
impl Pollable for GuestOutput {
    async fn ready(&mut self) {}
}

impl tokio::io::AsyncWrite for GuestOutput {
    fn poll_write(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        self.push(buf);
        Poll::Ready(Ok(buf.len()))
    }
    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_cause_in_python_javascript_and_rust_output() {
        let python = "Traceback (most recent call last):\n  File \"/0/app.py\", line 98, in http\n\
                      ValueError: bad minutes\n\nthread '<unnamed>' (1) panicked at runtime/src/lib.rs:1293:29:\n\
                      Python function threw an unexpected exception\nnote: run with `RUST_BACKTRACE=1` \
                      environment variable to display a backtrace\n";
        assert_eq!(cause_line(python).unwrap(), "ValueError: bad minutes");
        let quickjs = "thread '<unnamed>' (1) panicked at crates/runtime/src/interpreter.rs:51:31:\n\
                       Failed to call 'http': Value(Exception(\nException { message: Some(\"bad minutes\"), \
                       stack: Some(\"    at http (/visits.js:125:17)\\n\") })\n)\n";
        assert_eq!(cause_line(quickjs).unwrap(), "bad minutes");
        let rust = "thread '<unnamed>' panicked at src/lib.rs:3:5:\ntrap after three writes\n\
                    note: run with `RUST_BACKTRACE=1` environment variable to display a backtrace\n";
        assert_eq!(cause_line(rust).unwrap(), "trap after three writes");
        assert_eq!(cause_line("just a line\n\n").unwrap(), "just a line");
        assert_eq!(cause_line("  \n"), None);
    }

    #[test]
    fn keeps_the_most_recent_output() {
        let out = GuestOutput::default();
        out.push(&vec![b'x'; KEPT]);
        out.push(b"\nTraceback (most recent call last):\n  ValueError: bad amount\n\n");
        assert_eq!(out.text().len(), KEPT);
        assert!(out.text().ends_with("ValueError: bad amount\n\n"));
    }
}
