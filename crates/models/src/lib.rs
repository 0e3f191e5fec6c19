//! Statistical models of repeat buying (placeholder root, filled in by the models work).
