//! TODO: decoder stub, to be written.

use super::{Input, Output};

pub(super) fn decode(_input: &Input<'_>, _out: &mut Output) -> bool {
    false
}
