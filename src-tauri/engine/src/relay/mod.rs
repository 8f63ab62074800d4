//! The relay: each accepted delivery handed on to the user's own app (Stripe CLI's `--forward-to`,
//! for Graph), with what the app answered kept beside the delivery; and replay of any stored delivery,
//! to the receiver or to the app, as it was or edited.

mod forward;
mod replay;

pub use forward::{Delivery, Relay, RelayOptions, RELAYED_HEADER};
pub use replay::{
    replay, ReplayEdits, ReplayOutcome, ReplayTarget, REPLAY_HEADER, REQUEST_ID_HEADER,
};
