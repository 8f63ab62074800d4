//! The relay: each accepted delivery handed on to the user's own app (Stripe CLI's `--forward-to`,
//! for Graph), with what the app answered kept beside the delivery; and replay of any stored delivery,
//! to the receiver or to the app, as it was or edited.

mod forward;
mod replay;

pub use forward::{Delivery, Relay, RelayOptions};
pub use replay::{carried_headers, replay, ReplayEdits, ReplayOutcome, ReplayTarget};

/// The id of the request Hookscope stored: on the receiver's 202 (so a replay knows what it made), and
/// on each delivery handed on to the user's app (so a target pointing back here is not handed on again).
pub const REQUEST_ID_HEADER: &str = "x-hookscope-request-id";
/// On a replay sent to the receiver: the request it repeats.
pub const REPLAY_HEADER: &str = "x-hookscope-replay-of";

/// Whether a header of a stored or received request goes on when Hookscope sends it somewhere: not the
/// ones that describe a connection (RFC 9110 §7.6.1) or that the client sets itself, not credentials
/// (the target may be another host), not `accept-encoding` (nothing here decompresses an answer), and
/// not Hookscope's own marks, which are set afresh.
fn carried_on(name: &str) -> bool {
    !matches!(
        name,
        "connection"
            | "keep-alive"
            | "proxy-authenticate"
            | "proxy-authorization"
            | "proxy-connection"
            | "te"
            | "trailer"
            | "transfer-encoding"
            | "upgrade"
            | "host"
            | "content-length"
            | "accept-encoding"
            | "authorization"
            | "cookie"
            | REQUEST_ID_HEADER
            | REPLAY_HEADER
    )
}
