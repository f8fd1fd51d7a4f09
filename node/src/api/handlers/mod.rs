pub(super) mod node;
pub(super) mod packages;
pub(super) mod phases;
