//! `hookscope doctor`: the engine's checks, one line each with what to do; exits 1 when any failed.

use std::io::Write;

use hookscope_engine::doctor::{self, Health};
use hookscope_engine::Engine;

use super::output::json_line;
use super::{DoctorArgs, Global};

pub async fn run(engine: &Engine, global: &Global, args: DoctorArgs) -> anyhow::Result<()> {
    let checks = doctor::examine(engine, &super::graph::settings(global)).await;
    let mut out = super::output::stdout();
    for c in &checks {
        if args.json {
            json_line(&mut out, None, c)?;
            continue;
        }
        let mark = match c.health {
            Health::Ok => "ok  ",
            Health::Warn => "warn",
            Health::Fail => "FAIL",
        };
        out.line(format_args!("{mark}  {:<12}  {}", c.name, c.detail))?;
        if let Some(fix) = &c.fix {
            out.line(format_args!("      {:<12}  → {fix}", ""))?;
        }
    }
    out.flush()?;
    let failed = checks.iter().filter(|c| c.health == Health::Fail).count();
    if failed > 0 {
        anyhow::bail!("The doctor found {failed} problem(s); fix them as listed above.");
    }
    Ok(())
}
