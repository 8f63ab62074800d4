//! The `hookscope` binary: the command line when given a subcommand, the desktop app otherwise.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    std::process::exit(hookscope_lib::run());
}
