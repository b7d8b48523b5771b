//! Black-box test suites live in `tests/`; this crate has no code of its own.
