use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Query, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use vigil_collect::UnmappedSources;
use vigil_event::Timestamp;
use vigil_pipeline::Metrics;
use vigil_store::search::{parse_interval, parse_time_bound, SearchRequest, Searcher};

use crate::{ApiError, AuditLog, ImportRequest, Importer};

/// Default number of events a search returns.
const DEFAULT_SEARCH_LIMIT: usize = 100;

/// What the routes share.
pub struct ApiState {
    pub searcher: Searcher,
    pub metrics: Metrics,
    pub unmapped: Arc<UnmappedSources>,
    pub audit: AuditLog,
    /// The bearer token every route but `/healthz` requires.
    pub token: String,
    /// Imports uploads; `None` answers the import routes with 404.
    pub importer: Option<Arc<dyn Importer>>,
    /// The largest upload `POST /api/v1/import` takes; larger ones get 413.
    pub import_max_bytes: usize,
    /// The rules stage; `None` answers the rule and alert routes with 404.
    pub rules: Option<Arc<vigil_rules::RuleService>>,
    /// Ends live streams when the node stops.
    pub stopping: vigil_pipeline::ShutdownSignal,
}

/// Every route of the API. See the crate docs for the table.
pub fn router(state: Arc<ApiState>) -> Router {
    let protected = Router::new()
        .route("/metrics", get(metrics))
        .route("/api/v1/search", get(search))
        .route("/api/v1/search/histogram", get(histogram))
        .route("/api/v1/sources/unmapped", get(unmapped))
        .route(
            "/api/v1/import",
            post(import).layer(DefaultBodyLimit::max(state.import_max_bytes)),
        )
        .route("/api/v1/normalize", get(normalize_status))
        .route("/api/v1/rules", get(rules_status))
        .route("/api/v1/alerts", get(alerts))
        .route("/api/v1/alerts/stream", get(alert_stream))
        .route_layer(middleware::from_fn_with_state(state.clone(), authenticate));
    Router::new()
        .route("/healthz", get(|| async { "ok\n" }))
        .merge(protected)
        .with_state(state)
}

/// Constant-time comparison, so the token cannot be guessed byte by byte from timings.
fn same_secret(given: &[u8], expected: &[u8]) -> bool {
    if given.len() != expected.len() {
        return false;
    }
    given
        .iter()
        .zip(expected)
        .fold(0u8, |diff, (a, b)| diff | (a ^ b))
        == 0
}

async fn authenticate(
    State(state): State<Arc<ApiState>>,
    headers: HeaderMap,
    request: Request,
    next: Next,
) -> Response {
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .unwrap_or("");
    let path = request.uri().path().to_owned();
    if !same_secret(given.as_bytes(), state.token.as_bytes()) {
        state.audit.record(
            "anonymous",
            "auth.refused",
            &serde_json::json!({ "path": path }),
            401,
        );
        return ApiError::Unauthorized.into_response();
    }
    let query = request.uri().query().unwrap_or("").to_owned();
    let response = next.run(request).await;
    if path != "/metrics" {
        let detail = serde_json::json!({ "path": path, "query": query });
        state
            .audit
            .record("api-token", "api.call", &detail, response.status().as_u16());
    }
    response
}

async fn metrics(State(state): State<Arc<ApiState>>) -> impl IntoResponse {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics.render(),
    )
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SearchParams {
    #[serde(default)]
    q: String,
    from: Option<String>,
    to: Option<String>,
    limit: Option<usize>,
    interval: Option<String>,
}

fn bounds(params: &SearchParams) -> Result<(Option<Timestamp>, Option<Timestamp>), ApiError> {
    let now = Timestamp::now();
    let from = params
        .from
        .as_deref()
        .map(|text| parse_time_bound(text, now))
        .transpose()?;
    let to = params
        .to
        .as_deref()
        .map(|text| parse_time_bound(text, now))
        .transpose()?;
    Ok((from, to))
}

async fn search(
    State(state): State<Arc<ApiState>>,
    Query(params): Query<SearchParams>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let (from, to) = bounds(&params)?;
    let request = SearchRequest {
        query: params.q,
        from,
        to,
        limit: params.limit.unwrap_or(DEFAULT_SEARCH_LIMIT),
    };
    let result = tokio::task::spawn_blocking(move || state.searcher.search(&request))
        .await
        .map_err(|error| ApiError::Internal(error.to_string()))??;
    let events: Vec<serde_json::Value> = result
        .events
        .iter()
        .map(vigil_event::Event::to_json)
        .collect();
    Ok(Json(
        serde_json::json!({ "total": result.total, "events": events }),
    ))
}

async fn histogram(
    State(state): State<Arc<ApiState>>,
    Query(params): Query<SearchParams>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let (from, to) = bounds(&params)?;
    let interval_text = params.interval.clone().unwrap_or_else(|| "1h".into());
    let interval = parse_interval(&interval_text)?;
    let query = params.q.clone();
    let histogram =
        tokio::task::spawn_blocking(move || state.searcher.histogram(&query, from, to, interval))
            .await
            .map_err(|error| ApiError::Internal(error.to_string()))??;
    let buckets: Vec<serde_json::Value> = histogram
        .buckets
        .iter()
        .map(|(start, count)| serde_json::json!({ "start": start.to_string(), "count": count }))
        .collect();
    let total: u64 = histogram.buckets.iter().map(|(_, count)| count).sum();
    Ok(Json(
        serde_json::json!({ "interval": interval_text, "total": total, "buckets": buckets }),
    ))
}

async fn unmapped(State(state): State<Arc<ApiState>>) -> Json<serde_json::Value> {
    Json(serde_json::json!({ "sources": state.unmapped.list() }))
}

async fn import(
    State(state): State<Arc<ApiState>>,
    Query(request): Query<ImportRequest>,
    body: Bytes,
) -> Result<Json<serde_json::Value>, ApiError> {
    let importer = state.importer.clone().ok_or(ApiError::NotFound)?;
    let summary = tokio::task::spawn_blocking(move || importer.import(&body, &request))
        .await
        .map_err(|error| ApiError::Internal(error.to_string()))??;
    Ok(Json(summary))
}

async fn normalize_status(
    State(state): State<Arc<ApiState>>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let importer = state.importer.as_ref().ok_or(ApiError::NotFound)?;
    Ok(Json(importer.normalize_status()))
}

async fn rules_status(
    State(state): State<Arc<ApiState>>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let rules = state.rules.as_ref().ok_or(ApiError::NotFound)?;
    Ok(Json(rules.status_json()))
}

/// Alerts kept in memory that `GET /api/v1/alerts` returns at most.
const MAX_RECENT_ALERTS: usize = 1_000;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AlertParams {
    limit: Option<usize>,
}

async fn alerts(
    State(state): State<Arc<ApiState>>,
    Query(params): Query<AlertParams>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let rules = state.rules.as_ref().ok_or(ApiError::NotFound)?;
    let limit = params.limit.unwrap_or(100).min(MAX_RECENT_ALERTS);
    let alerts: Vec<serde_json::Value> = rules
        .recent(limit)
        .iter()
        .map(|alert| alert.to_json())
        .collect();
    Ok(Json(serde_json::json!({ "alerts": alerts })))
}

/// `GET /api/v1/alerts/stream`: each new alert as a server-sent event (`event: alert`, the alert
/// as JSON in `data`), until the client leaves or the node stops. A client too slow to keep
/// up gets an `event: lagged` with the number it missed.
async fn alert_stream(State(state): State<Arc<ApiState>>) -> Result<Response, ApiError> {
    let rules = state.rules.as_ref().ok_or(ApiError::NotFound)?;
    let receiver = rules.subscribe();
    let stopping = state.stopping.clone();
    let stream = futures_util::stream::unfold(
        (receiver, stopping, true),
        |(mut receiver, mut stopping, first)| async move {
            if first {
                // A comment line tells the client the stream is open.
                return Some((
                    Ok::<_, std::io::Error>(Bytes::from_static(b": ok\n\n")),
                    (receiver, stopping, false),
                ));
            }
            let next = tokio::select! {
                next = receiver.recv() => next,
                () = stopping.wait() => return None,
            };
            let chunk = match next {
                Ok(alert) => format!(
                    "event: alert\nid: {}\ndata: {}\n\n",
                    alert.id,
                    alert.to_json()
                ),
                Err(tokio::sync::broadcast::error::RecvError::Lagged(missed)) => {
                    format!("event: lagged\ndata: {missed}\n\n")
                }
                Err(tokio::sync::broadcast::error::RecvError::Closed) => return None,
            };
            Some((Ok(Bytes::from(chunk)), (receiver, stopping, false)))
        },
    );
    Ok((
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, "text/event-stream"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        axum::body::Body::from_stream(stream),
    )
        .into_response())
}
