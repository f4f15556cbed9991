//! TODO: decoder stub, to be written (called from `json`).
