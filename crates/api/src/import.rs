//! What the import and normalisation routes need from the node, as a trait the binary
//! implements (the API does not depend on the normaliser or the importer directly).

use crate::ApiError;

/// The query of `POST /api/v1/import`.
#[derive(Clone, Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImportRequest {
    /// auto, syslog, lines, cef, ndjson, json or csv. Default auto.
    #[serde(default = "auto")]
    pub format: String,
    pub tenant: Option<String>,
    pub level: Option<i64>,
    pub source: Option<String>,
    /// A name for the upload, kept as `log.file.path` (and used by `auto`). Default `upload`.
    #[serde(default = "upload")]
    pub name: String,
}

fn auto() -> String {
    "auto".into()
}

fn upload() -> String {
    "upload".into()
}

/// Imports uploads and reports on normalisation.
pub trait Importer: Send + Sync + 'static {
    /// Imports `body` (plain, gzip or zstd) through the pipeline and answers once every stored
    /// event is durable, with the import's summary. Blocking: called on a blocking thread.
    fn import(&self, body: &[u8], request: &ImportRequest) -> Result<serde_json::Value, ApiError>;

    /// Mapping files and their errors, and the sources of unrecognised lines.
    fn normalize_status(&self) -> serde_json::Value;
}
