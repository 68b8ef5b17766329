//! Pooled-testing designs (placeholder crate root, replaced by the pooling work).
