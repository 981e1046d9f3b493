//! vpp-emulator: a persistent emulator of the Microsoft Graph Intune `vppTokens` API.
//!
//! Data flows one way: `routes` (actix handlers) → `graph` (the wire format) → `domain` (the
//! model) → `store` (SQLite). `main.rs` is a thin CLI over this library.
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

pub mod auth;
pub mod cli;
pub mod config;
pub mod domain;
pub mod error;
pub mod fixtures;
pub mod graph;
pub mod routes;
pub mod startup;
pub mod store;
pub mod telemetry;
