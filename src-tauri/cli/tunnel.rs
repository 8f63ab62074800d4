//! `hookscope tunnel authtoken|forget`: the ngrok authtoken kept in the keyring (or an owner-only file
//! where none runs), so `listen --tunnel ngrok` needs no environment variable. Never printed.

use std::io::{BufRead, Write};

use hookscope_engine::secrets::Secrets;
use hookscope_engine::tunnel::NGROK_SECRET;
use hookscope_engine::Engine;

use super::{TunnelAction, TunnelSettingsArgs};

pub async fn run(engine: &Engine, args: TunnelSettingsArgs) -> anyhow::Result<()> {
    let secrets = Secrets::new(&engine.config().data_dir);
    let mut out = super::output::stdout();
    match args.action {
        TunnelAction::Authtoken => {
            if std::io::IsTerminal::is_terminal(&std::io::stdin()) {
                write!(out, "ngrok authtoken (from https://dashboard.ngrok.com/get-started/your-authtoken): ")?;
                out.flush()?;
            }
            let mut token = String::new();
            std::io::stdin().lock().read_line(&mut token)?;
            let token = token.trim();
            if token.is_empty() || token.contains(char::is_whitespace) {
                anyhow::bail!("That is not an ngrok authtoken; copy it from https://dashboard.ngrok.com/get-started/your-authtoken and try again.");
            }
            let kept = secrets.put(NGROK_SECRET, token)?;
            writeln!(
                out,
                "The ngrok authtoken is {}; `hookscope listen --tunnel ngrok` uses it.",
                kept.describe()
            )?;
        }
        TunnelAction::Forget => {
            secrets.delete(NGROK_SECRET);
            writeln!(out, "The ngrok authtoken is forgotten.")?;
        }
    }
    Ok(())
}
