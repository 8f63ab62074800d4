//! A desktop toast as Hookscope recorded it: what it said, what it was about, and whether the desktop
//! showed it (a machine without a notification service records the failure instead).

use serde::{Deserialize, Serialize};
use ts_rs::TS;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub enum ToastKind {
    /// New accepted notifications of one subscription, coalesced.
    Notifications,
    Lifecycle,
    /// A renewal or re-creation failed.
    KeeperFailed,
    /// A subscription without auto-renew is about to expire.
    Expiring,
    TunnelDown,
}

impl ToastKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ToastKind::Notifications => "notifications",
            ToastKind::Lifecycle => "lifecycle",
            ToastKind::KeeperFailed => "keeperFailed",
            ToastKind::Expiring => "expiring",
            ToastKind::TunnelDown => "tunnelDown",
        }
    }

    pub fn parse(text: &str) -> ToastKind {
        match text {
            "lifecycle" => ToastKind::Lifecycle,
            "keeperFailed" => ToastKind::KeeperFailed,
            "expiring" => ToastKind::Expiring,
            "tunnelDown" => ToastKind::TunnelDown,
            _ => ToastKind::Notifications,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(rename_all = "camelCase")]
pub struct ToastRecord {
    pub id: String,
    pub at: String,
    pub kind: ToastKind,
    pub subscription_id: Option<String>,
    /// The notification a click on the toast opens in the inspector.
    pub notification_id: Option<String>,
    pub summary: String,
    pub body: String,
    pub shown: bool,
    /// Why the desktop did not show it.
    pub error: Option<String>,
}
