//! The wire: Graph paths, query options, JSON in and out, headers and the error envelope.

pub mod entity;
pub mod filter;
pub mod input;
pub mod json;
pub mod middleware;
pub mod openapi;
pub mod query;
pub mod response;
pub mod route;
