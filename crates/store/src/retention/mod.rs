//! Retention: a pure plan ([`plan`]) of which day partitions have outlived their level's period,
//! and a janitor ([`janitor`]) that carries it out, archive and index together.

pub mod janitor;
pub mod plan;

pub use janitor::{delete_partition, remove_leftovers};
pub use plan::{plan_deletions, Deletion};
