/// Why a stage stopped.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    #[error("cannot bind {address}: {source}")]
    Bind {
        address: std::net::SocketAddr,
        source: std::io::Error,
    },
    #[error("the downstream stage has stopped")]
    DownstreamClosed,
    #[error("{stage} failed: {message}")]
    Stage {
        stage: &'static str,
        message: String,
    },
}

pub type Result<T, E = PipelineError> = std::result::Result<T, E>;
