//! The fixtures every test here shares: the `test-support` crate, which the card tool's tests
//! use too, so that both start servers, databases and card clients the same way.

pub use test_support::*;
