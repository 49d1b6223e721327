//! A plugin uploaded as a form (the API's `multipart/form-data` install and the plugins page):
//! the component, and for a component built without the Rust SDK its `qingguan.toml`, read
//! within the plugin size limit (the parts together) — the app-wide body limit is for JSON.

use axum::body::Body;

/// What an upload form carried.
#[derive(Debug, Default)]
pub struct Upload {
    /// The component (`component` or `file` part).
    pub component: Vec<u8>,
    /// Its file name, if the form said.
    pub file_name: Option<String>,
    /// Its manifest (`manifest` part), if one came with it.
    pub manifest: Option<String>,
    /// Whether the `approve` box was ticked.
    pub approve: bool,
}

/// Why a form could not be read.
#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    /// The parts together pass the plugin size limit.
    #[error("plugins may be at most {0} bytes")]
    TooLarge(usize),
    /// Not a readable multipart form.
    #[error("{0}")]
    Malformed(String),
    /// The manifest part is not UTF-8 text.
    #[error("the manifest is not UTF-8 text")]
    ManifestNotText,
}

/// Reads a `multipart/form-data` body with the given `content_type`.
pub async fn read(content_type: &str, body: Body, limit: usize) -> Result<Upload, UploadError> {
    let boundary =
        multer::parse_boundary(content_type).map_err(|e| UploadError::Malformed(e.to_string()))?;
    // The whole stream counts — preamble and part headers too, not only the parts' data.
    let constraints = multer::Constraints::new()
        .size_limit(multer::SizeLimit::new().whole_stream((limit + FORM_OVERHEAD) as u64));
    let mut form =
        multer::Multipart::with_constraints(body.into_data_stream(), boundary, constraints);
    let too_large = |e: multer::Error| match e {
        multer::Error::StreamSizeExceeded { .. } => UploadError::TooLarge(limit),
        other => UploadError::Malformed(other.to_string()),
    };
    let mut upload = Upload::default();
    let mut total = 0usize;
    while let Some(mut field) = form.next_field().await.map_err(too_large)? {
        let name = field.name().unwrap_or_default().to_string();
        let file_name = field.file_name().map(str::to_string);
        let mut bytes = Vec::new();
        while let Some(chunk) = field.chunk().await.map_err(too_large)? {
            total += chunk.len();
            if total > limit {
                return Err(UploadError::TooLarge(limit));
            }
            bytes.extend_from_slice(&chunk);
        }
        match name.as_str() {
            "component" | "file" => {
                upload.component = bytes;
                upload.file_name = file_name;
            }
            "manifest" if !bytes.is_empty() => {
                upload.manifest =
                    Some(String::from_utf8(bytes).map_err(|_| UploadError::ManifestNotText)?);
            }
            "approve" => upload.approve = true,
            _ => {}
        }
    }
    Ok(upload)
}

/// Whether a request's content type is a multipart form (media types are case-insensitive).
pub fn is_multipart(content_type: Option<&str>) -> bool {
    content_type.is_some_and(|v| {
        v.get(..19)
            .is_some_and(|t| t.eq_ignore_ascii_case("multipart/form-data"))
    })
}

/// Room for a form's boundaries, part headers and small fields around its files.
const FORM_OVERHEAD: usize = 64 * 1024;
