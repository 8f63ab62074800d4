//! `hookscope certificates`: the keys rich notifications are encrypted with, so nobody needs OpenSSL or
//! keytool. Private keys are never printed; only where each was kept.

use std::io::Write;

use hookscope_engine::rich::CertificateInfo;
use hookscope_engine::Engine;

use super::output::json_line;
use super::{CertificatesAction, CertificatesArgs};

pub async fn run(engine: &Engine, args: CertificatesArgs) -> anyhow::Result<()> {
    let keychain = engine.keychain();
    let mut out = super::output::stdout();
    let action = args
        .action
        .unwrap_or(CertificatesAction::List { json: args.json });
    let (made, json) = match action {
        CertificatesAction::List { json } => {
            let all = keychain.list().await?;
            if json {
                for c in &all {
                    json_line(&mut out, None, c)?;
                }
            } else if all.is_empty() {
                writeln!(out, "No certificates yet; `hookscope certificates generate` makes one, and `subscribe --rich` makes one when needed.")?;
            } else {
                for c in &all {
                    writeln!(out, "{}", line(c))?;
                }
            }
            return Ok(());
        }
        CertificatesAction::Generate { bits, json } | CertificatesAction::Rotate { bits, json } => {
            (keychain.generate(bits).await?, json)
        }
        CertificatesAction::Import {
            file,
            password,
            id,
            json,
        } => {
            let bytes = std::fs::read(&file)
                .map_err(|error| anyhow::anyhow!("Cannot read {}: {error}.", file.display()))?;
            (
                keychain
                    .import(id.as_deref(), &bytes, password.as_deref())
                    .await?,
                json,
            )
        }
        CertificatesAction::Export { id } => {
            write!(out, "{}", keychain.export(&id).await?)?;
            return Ok(());
        }
        CertificatesAction::Prune { json } => {
            let pruned = keychain.prune().await?;
            if json {
                for id in &pruned {
                    json_line(
                        &mut out,
                        None,
                        &serde_json::json!({ "id": id, "pruned": true }),
                    )?;
                }
            } else if pruned.is_empty() {
                writeln!(
                    out,
                    "Nothing to prune: every retired certificate is still used by a subscription."
                )?;
            } else {
                for id in &pruned {
                    writeln!(out, "Pruned {id} and its private key.")?;
                }
            }
            return Ok(());
        }
    };
    let (info, kept) = made;
    if json {
        json_line(&mut out, None, &info)?;
    } else {
        writeln!(out, "{}", line(&info))?;
        writeln!(out, "  private key {}", kept.describe())?;
        writeln!(out, "  new rich subscriptions (`hookscope subscribe --rich`) use it; older certificates stay to decrypt until `hookscope certificates prune`.")?;
    }
    if let hookscope_engine::secrets::Kept::File(_) = kept {
        super::output::error_line(format_args!(
            "Warning: the private key is {}.",
            kept.describe()
        ));
    }
    Ok(())
}

fn line(c: &CertificateInfo) -> String {
    let state = if c.active {
        "active".to_owned()
    } else if let Some(at) = &c.retired_at {
        format!("retired {at}")
    } else {
        "held".to_owned()
    };
    format!(
        "{}  RSA-{}  {}  {}  {}  created {}",
        c.id, c.bits, c.thumbprint, c.origin, state, c.created_at
    )
}
