//! The UI's TypeScript types, generated from the Rust types with ts-rs into one file
//! (`ui/src/lib/bindings.ts`); a test fails when the committed file is stale.

use ts_rs::{Config, TS};

use crate::bus::Event;
use crate::catalog::{ChangeType, ResourceKind, Workload};
use crate::doctor::{Check, Health};
use crate::export::{ExportFormat, ExportSummary};
use crate::feed::FeedBatch;
use crate::graph::signin::{DeviceCode, SignInMode, SignInProfile};
use crate::graph::{CurrentResource, GraphStatus};
use crate::model::{
    Inspection, KeeperAction, KeeperEvent, Notification, Page, RelayRecord, RequestKind,
    RequestRecord, Subscription, SubscriptionStatus, ToastKind, ToastRecord, Verdict,
};
use crate::receiver::{ReceiverStatus, ReceiverUrls};
use crate::relay::{ReplayEdits, ReplayOutcome, ReplayTarget};
use crate::rich::CertificateInfo;
use crate::sandbox::{SandboxSend, SandboxStatus};
use crate::settings::{Settings, SettingsChange, SettingsView, Theme, ToastSettings, TunnelMode};
use crate::simulator::{DeliveryRecord, Outcome, TriggerReport};
use crate::store::{NotificationFilter, VerdictFilter};
use crate::subscriptions::{RemoteSubscription, SubscribeInput, SubscriptionView};
use crate::tunnel::TunnelState;

pub const HEADER: &str = "// Generated from the Rust types by `UPDATE_BINDINGS=1 cargo test -p hookscope-engine --test bindings`.\n// Do not edit by hand.\n";

pub fn typescript() -> String {
    // JSON numbers, not bigint: every integer here fits comfortably in a double.
    let cfg = Config::new().with_large_int("number");
    let declarations = [
        Verdict::decl(&cfg),
        Notification::decl(&cfg),
        RequestKind::decl(&cfg),
        RequestRecord::decl(&cfg),
        RelayRecord::decl(&cfg),
        Inspection::decl(&cfg),
        CurrentResource::decl(&cfg),
        ReplayTarget::decl(&cfg),
        ReplayEdits::decl(&cfg),
        ReplayOutcome::decl(&cfg),
        SubscriptionStatus::decl(&cfg),
        Subscription::decl(&cfg),
        KeeperAction::decl(&cfg),
        KeeperEvent::decl(&cfg),
        ToastKind::decl(&cfg),
        ToastRecord::decl(&cfg),
        ChangeType::decl(&cfg),
        Workload::decl(&cfg),
        ResourceKind::decl(&cfg),
        SubscribeInput::decl(&cfg),
        SubscriptionView::decl(&cfg),
        RemoteSubscription::decl(&cfg),
        CertificateInfo::decl(&cfg),
        GraphStatus::decl(&cfg),
        Health::decl(&cfg),
        Check::decl(&cfg),
        SignInMode::decl(&cfg),
        SignInProfile::decl(&cfg),
        DeviceCode::decl(&cfg),
        ReceiverUrls::decl(&cfg),
        ReceiverStatus::decl(&cfg),
        Page::<()>::decl(&cfg),
        VerdictFilter::decl(&cfg),
        NotificationFilter::decl(&cfg),
        ExportFormat::decl(&cfg),
        ExportSummary::decl(&cfg),
        FeedBatch::decl(&cfg),
        TunnelState::decl(&cfg),
        TunnelMode::decl(&cfg),
        Theme::decl(&cfg),
        ToastSettings::decl(&cfg),
        Settings::decl(&cfg),
        SettingsView::decl(&cfg),
        SettingsChange::decl(&cfg),
        Event::decl(&cfg),
        SandboxStatus::decl(&cfg),
        SandboxSend::decl(&cfg),
        Outcome::decl(&cfg),
        DeliveryRecord::decl(&cfg),
        TriggerReport::decl(&cfg),
    ];
    let mut out = String::from(HEADER);
    for declaration in declarations {
        out.push_str("\nexport ");
        out.push_str(&declaration);
        out.push('\n');
    }
    out
}
