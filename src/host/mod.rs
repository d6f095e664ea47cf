//! host side (being written)
