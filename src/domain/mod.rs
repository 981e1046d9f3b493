//! The vppToken model: entity, enumerations, date-times and the property table.

pub mod datetime;
pub mod enums;
pub mod properties;
pub mod tenant_data;
pub mod token;

pub use datetime::GraphDateTime;
pub use properties::{ApiVersion, PropId, PropKind, Property};
pub use tenant_data::{License, TenantData};
pub use token::{ActionResult, RevokeDetails, TokenChanges, VppToken};
