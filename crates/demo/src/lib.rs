//! Demo data generator (being written).
