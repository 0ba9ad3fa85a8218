//! zkinfer
