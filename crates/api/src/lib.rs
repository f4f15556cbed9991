//! `vigil-api`: the REST API.
//!
//! [`router`] builds every route and [`serve`] serves it over HTTPS (or plain HTTP when
//! configured so); [`ApiError`] maps failures to HTTP statuses in one place;
//! [`AuditLog`] records every call. Every route but `/healthz` needs the API token
//! (`Authorization: Bearer …`), compared in constant time; refusals are audited too.
//!
//! | route | what |
//! |---|---|
//! | `GET /healthz` | liveness, no token |
//! | `GET /metrics` | Prometheus counters of every listener and stage |
//! | `GET /api/v1/search?q=&from=&to=&limit=` | `{"total": N, "events": [...]}`, newest first (`limit=0`: the count only) |
//! | `GET /api/v1/search/histogram?q=&from=&to=&interval=` | counts per time bucket |
//! | `GET /api/v1/sources/unmapped` | senders that match no information system |
//! | `POST /api/v1/import?format=&tenant=&level=&source=&name=` | a log file (plain, gzip, zstd) imported through the pipeline; the summary once it is durable; 413 past `api.import_max_bytes` |
//! | `GET /api/v1/normalize` | mapping files and their errors, sources of unrecognised lines |
//! | `GET /api/v1/rules` | running rules, rule files and their errors (`FILE:LINE: message`), counters |
//! | `GET /api/v1/alerts?limit=` | the latest alerts, newest first |
//! | `GET /api/v1/alerts/stream` | new alerts as server-sent events |
//!
//! Depends on `vigil-store`, `vigil-collect`, `vigil-rules`, `vigil-pipeline`, `vigil-event`
//! (all below it).

mod audit;
mod error;
mod import;
mod routes;
mod serve;

pub use audit::AuditLog;
pub use error::ApiError;
pub use import::{ImportRequest, Importer};
pub use routes::{router, ApiState};
pub use serve::serve;
