//! Subscriptions and the keeper against the Graph simulator, over real HTTP on loopback: create, renew
//! and delete the way the command line and the app do, and the keeper keeping them alive on its own.

#[path = "../simulator/support.rs"]
mod support;

mod birth;
mod doctor;
mod fixture;
mod keeper;
mod lifecycle;
mod resource;
mod rich;
mod subscribe;
