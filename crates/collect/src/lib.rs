//! vigil-collect
