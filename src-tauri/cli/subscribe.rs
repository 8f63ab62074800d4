//! `hookscope subscribe`: one Graph subscription, checked, self-tested and created; printed as Graph's
//! fields plus Hookscope's (`--json`) or as a short summary.

use std::io::Write;

use hookscope_engine::subscriptions::{self, Lifetime, SubscribeRequest};
use hookscope_engine::Engine;

use super::output::{json_line, time_left};
use super::{Global, SubscribeArgs};

pub async fn run(engine: &Engine, global: &Global, args: SubscribeArgs) -> anyhow::Result<()> {
    let request = SubscribeRequest {
        resource: args.resource,
        change_types: args.change_type,
        lifetime: Lifetime::parse(&args.expires_in).map_err(anyhow::Error::msg)?,
        rich: args.rich,
        lifecycle: !args.no_lifecycle,
        auto_renew: !args.no_auto_renew,
        notification_url: args.notification_url,
    };
    // The catalog's verdict comes before any sign-in, so a typo never costs a round trip.
    subscriptions::precheck(&request, false)?;
    let graph = super::graph::client(engine, global).await?;
    if request.rich {
        // Made here rather than inside subscribe so where its private key went can be said.
        if let (key, Some(kept)) = engine.keychain().active_or_generate().await? {
            super::output::error_line(format_args!(
                "Made certificate {} for rich notifications; its private key is {}.",
                key.certificate_id(),
                kept.describe()
            ));
        }
    }
    let created = subscriptions::subscribe(engine, &graph, &request).await?;
    let mut out = super::output::stdout();
    if args.json {
        json_line(&mut out, None, &created)?;
        return Ok(());
    }
    out.line(format_args!("Subscribed {}", created.id))?;
    out.line(format_args!(
        "  resource:     {} ({})",
        created.resource, created.change_type
    ))?;
    out.line(format_args!("  delivers to:  {}", created.notification_url))?;
    if let Some(certificate) = &created.encryption_certificate_id {
        out.line(format_args!(
            "  rich:         resource data encrypted for certificate {certificate}, decrypted on arrival"
        ))?;
    }
    match &created.lifecycle_notification_url {
        Some(url) => out.line(format_args!("  lifecycle:    {url}"))?,
        None => writeln!(
            out,
            "  lifecycle:    off (Graph's lifecycle events will not reach Hookscope)"
        )?,
    }
    let renewal = if created.auto_renew {
        "renewed automatically while `hookscope listen` or the app runs"
    } else {
        "not renewed (--no-auto-renew)"
    };
    out.line(format_args!(
        "  expires:      {} (in {}); {renewal}",
        created.expiration_date_time,
        time_left(&created.expiration_date_time)
    ))?;
    Ok(())
}
