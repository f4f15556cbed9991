//! vigil-vigil
