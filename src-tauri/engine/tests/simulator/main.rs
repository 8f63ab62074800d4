//! The Graph simulator against Graph's documented behaviour (docs/graph.md §1–§9), over real HTTP on
//! loopback: its login host, its subscription API and validation handshake, and its deliveries.

mod api;
mod delivery;
mod identity;
mod rich;
mod sandbox;
mod support;
