//! Calling Microsoft Graph (or the simulator standing in for it): app-only sign-in and the subscription
//! API, with Graph's and Entra's errors turned into sentences a person can act on.

mod client;
mod connection;
mod credentials;
mod error;
pub mod resource;
pub mod settings;
pub mod signin;

pub use client::{GraphClient, NewSubscription};
pub use connection::{Connection, GraphStatus};
pub use credentials::{AppCredentials, Delegated};
pub use error::GraphApiError;
pub use resource::CurrentResource;
pub use settings::{Cloud, GraphSettings};
