//! HTTP handlers.

pub mod admin;
pub mod health;
pub mod openapi;
pub mod vpp_tokens;

use crate::config::Settings;
use crate::store::Store;
use std::sync::Arc;

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub settings: Arc<Settings>,
}
