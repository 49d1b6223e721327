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
    let mut form = multer::Multipart::new(body.into_data_stream(), boundary);
    let mut upload = Upload::default();
    let mut total = 0usize;
    while let Some(mut field) = form
        .next_field()
        .await
        .map_err(|e| UploadError::Malformed(e.to_string()))?
    {
        let name = field.name().unwrap_or_default().to_string();
        let file_name = field.file_name().map(str::to_string);
        let mut bytes = Vec::new();
        while let Some(chunk) = field
            .chunk()
            .await
            .map_err(|e| UploadError::Malformed(e.to_string()))?
        {
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

/// Whether a request's content type is a multipart form.
pub fn is_multipart(content_type: Option<&str>) -> bool {
    content_type.is_some_and(|v| v.starts_with("multipart/form-data"))
}
