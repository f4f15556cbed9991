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
//! | `GET /api/v1/search?q=&from=&to=&limit=` | `{"total": N, "events": [...]}`, newest first |
//! | `GET /api/v1/search/histogram?q=&from=&to=&interval=` | counts per time bucket |
//! | `GET /api/v1/sources/unmapped` | senders that match no information system |
//!
//! Depends on `vigil-store`, `vigil-collect`, `vigil-pipeline`, `vigil-event` (all below it).

mod audit;
mod error;
mod routes;
mod serve;

pub use audit::AuditLog;
pub use error::ApiError;
pub use routes::{router, ApiState};
pub use serve::serve;
