//! The demo shop generator (being written).
