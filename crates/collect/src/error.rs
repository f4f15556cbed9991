/// Why a listener could not start.
#[derive(Debug, thiserror::Error)]
pub enum CollectError {
    #[error("cannot listen on {address}: {source}")]
    Bind {
        address: std::net::SocketAddr,
        source: std::io::Error,
    },
    #[error("invalid listener setting: {0}")]
    Config(String),
}

pub type Result<T, E = CollectError> = std::result::Result<T, E>;
