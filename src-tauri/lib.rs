//! Hookscope's two thin fronts over the engine: `cli` (clap) and `app` (the Tauri shell).

pub mod app;
pub mod cli;

/// Parses the command line and runs the chosen front; returns the process exit code.
pub fn run() -> i32 {
    let parsed = match cli::parse() {
        Ok(parsed) => parsed,
        Err(code) => return code,
    };
    cli::init_logging(parsed.global.verbose);
    match parsed.command {
        None => app::run(&parsed.global),
        Some(command) => cli::run(&parsed.global, command),
    }
}
