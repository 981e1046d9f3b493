//! The enumerations of the vppToken model, with their wire names exactly as Graph sends them.

use crate::domain::properties::ApiVersion;

/// An enumeration sent on the wire by its member names.
pub trait WireEnum: Sized + Copy + 'static {
    /// Every member, in the order of the Graph schema.
    const ALL: &'static [Self];
    /// The Graph type name, as used in error messages.
    const GRAPH_NAME: &'static str;
    fn as_str(self) -> &'static str;
    /// Parses a member name; Graph matches them exactly, so `Valid` is not `valid`.
    fn parse(text: &str) -> Option<Self>;
}

/// The member names of `E` that `version` has (`duplicateLocationId` is beta only).
pub fn members<E: WireEnum>(version: ApiVersion) -> Vec<&'static str> {
    E::ALL
        .iter()
        .map(|member| member.as_str())
        .filter(|name| TokenState::parse(name).is_none_or(|state| state.exists_in(version)))
        .collect()
}

/// The member names of the enumeration Graph calls `graph_name`, as `version` has them.
pub fn members_of(graph_name: &str, version: ApiVersion) -> Vec<&'static str> {
    match graph_name {
        AccountType::GRAPH_NAME => members::<AccountType>(version),
        TokenState::GRAPH_NAME => members::<TokenState>(version),
        SyncStatus::GRAPH_NAME => members::<SyncStatus>(version),
        ActionState::GRAPH_NAME => members::<ActionState>(version),
        ActionFailureReason::GRAPH_NAME => members::<ActionFailureReason>(version),
        DeliveryProtocol::GRAPH_NAME => members::<DeliveryProtocol>(version),
        _ => Vec::new(),
    }
}

/// Declares a wire enum: variants, their exact (case-sensitive) Graph member names and the
/// Graph type name used in error messages.
macro_rules! wire_enum {
    ($(#[$meta:meta])* $name:ident, $graph_name:literal, { $($variant:ident => $wire:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum $name { $($variant),+ }

        impl WireEnum for $name {
            const ALL: &'static [$name] = &[$($name::$variant),+];
            const GRAPH_NAME: &'static str = $graph_name;

            fn as_str(self) -> &'static str {
                match self { $($name::$variant => $wire),+ }
            }

            fn parse(text: &str) -> Option<Self> {
                match text { $($wire => Some($name::$variant),)+ _ => None }
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }
    };
}

wire_enum!(
    /// `vppTokenAccountType`
    AccountType, "vppTokenAccountType", {
    Business => "business",
    Education => "education",
});

wire_enum!(
    /// `vppTokenState`; `duplicateLocationId` exists on beta only.
    TokenState, "vppTokenState", {
    Unknown => "unknown",
    Valid => "valid",
    Expired => "expired",
    Invalid => "invalid",
    AssignedToExternalMdm => "assignedToExternalMDM",
    DuplicateLocationId => "duplicateLocationId",
});

impl TokenState {
    /// Whether `version`'s schema has this member.
    pub fn exists_in(self, version: ApiVersion) -> bool {
        version == ApiVersion::Beta || self != TokenState::DuplicateLocationId
    }

    /// The member a `version` answer shows. v1.0 cannot name `duplicateLocationId` (its SDK
    /// models would fail to read it), so a token given that state on beta reads there as
    /// `unknown`, the member v1.0 has for a state it does not know.
    pub fn as_seen_in(self, version: ApiVersion) -> TokenState {
        if self.exists_in(version) {
            self
        } else {
            TokenState::Unknown
        }
    }
}

wire_enum!(
    /// `vppTokenSyncStatus`
    SyncStatus, "vppTokenSyncStatus", {
    None => "none",
    InProgress => "inProgress",
    Completed => "completed",
    Failed => "failed",
});

wire_enum!(
    /// `actionState`
    ActionState, "actionState", {
    None => "none",
    Pending => "pending",
    Canceled => "canceled",
    Active => "active",
    Done => "done",
    Failed => "failed",
    NotSupported => "notSupported",
});

wire_enum!(
    /// `vppTokenActionFailureReason`
    ActionFailureReason, "vppTokenActionFailureReason", {
    None => "none",
    AppleFailure => "appleFailure",
    InternalError => "internalError",
    ExpiredVppToken => "expiredVppToken",
    ExpiredApplePushNotificationCertificate => "expiredApplePushNotificationCertificate",
});

wire_enum!(
    /// `appleDeviceDeliveryProtocol`
    DeliveryProtocol, "appleDeviceDeliveryProtocol", {
    Default => "default",
    MobileDeviceManagement => "mobileDeviceManagement",
    DeclarativeDeviceManagement => "declarativeDeviceManagement",
    UnknownFutureValue => "unknownFutureValue",
});

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_round_trip_and_match_case_sensitively() {
        for state in TokenState::ALL {
            assert_eq!(TokenState::parse(state.as_str()), Some(*state));
        }
        assert_eq!(
            TokenState::parse("assignedToExternalMDM"),
            Some(TokenState::AssignedToExternalMdm)
        );
        assert_eq!(TokenState::parse("Valid"), None);
        assert_eq!(TokenState::parse("assignedToExternalMdm"), None);
    }
}
