//! Hookscope's engine: everything a user can do with Graph change notifications, with no Tauri and no
//! terminal in it, so the desktop shell and the command line stay thin fronts over one tested core.

pub mod announcement;
pub mod bindings;
pub mod bus;
pub mod catalog;
pub mod clock;
pub mod config;
pub mod doctor;
pub mod engine;
pub mod export;
pub mod feed;
pub mod graph;
pub mod keeper;
pub mod model;
pub mod privacy;
pub mod receiver;
pub mod relay;
pub mod retention;
pub mod rich;
pub mod sandbox;
pub mod secrets;
pub mod settings;
pub mod simulator;
pub mod store;
pub mod subscriptions;
pub mod toasts;
pub mod tunnel;

pub use bus::{Bus, Event};
pub use config::{Durability, EngineConfig, ReceiverOptions};
pub use engine::Engine;
