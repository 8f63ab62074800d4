//! The records Hookscope shows and prints: one shape for the store, the bus, the command line's JSON and
//! the UI's generated TypeScript types, so no front can drift from another.

mod inspection;
mod keeper;
mod notification;
pub mod printable;
mod relay;
mod request;
mod subscription;
mod toast;

pub use inspection::Inspection;
pub use keeper::{KeeperAction, KeeperEvent};
pub use notification::{Notification, Verdict};
pub use relay::RelayRecord;
pub use request::{RequestKind, RequestRecord};
pub use subscription::{Subscription, SubscriptionStatus};
pub use toast::{ToastKind, ToastRecord};

/// One page of a newest-first list; `next` is the cursor for the following (older) page.
#[derive(Debug, Clone, serde::Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
#[ts(rename_all = "camelCase")]
pub struct Page<T: ts_rs::TS> {
    /// Newest first.
    pub items: Vec<T>,
    pub next: Option<String>,
}
