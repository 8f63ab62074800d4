//! The ngrok tunnel, through the `ngrok` crate: a session with the user's authtoken, an HTTPS endpoint
//! (on the account's static domain when one is set, so the URL survives restarts) forwarding to the
//! local receiver. Its errors become sentences: where to get an authtoken, or that ngrok is out of
//! reach (then the supervisor retries).

use ngrok::config::ForwarderBuilder;
use ngrok::prelude::*;

use super::{Tunnel, TunnelError};

const TOKEN_HELP: &str = "get yours at https://dashboard.ngrok.com/get-started/your-authtoken and set NGROK_AUTHTOKEN (the app keeps it in the keyring)";

#[derive(Debug, Clone, Default)]
pub struct NgrokOptions {
    pub authtoken: Option<String>,
    /// The account's static domain (`HOOKSCOPE_NGROK_DOMAIN`): the same URL on every start.
    pub domain: Option<String>,
    /// Where ngrok's service is; only tests change it (to a closed local port).
    pub server_addr: Option<String>,
}

pub struct NgrokTunnel {
    options: NgrokOptions,
    /// Held while open: dropping the forwarder closes the endpoint.
    forwarder: Option<ngrok::forwarder::Forwarder<ngrok::tunnel::HttpTunnel>>,
}

impl NgrokTunnel {
    pub fn new(options: NgrokOptions) -> NgrokTunnel {
        NgrokTunnel {
            options,
            forwarder: None,
        }
    }
}

/// ngrok's error codes that mean the authtoken is missing, wrong or revoked.
fn is_token_problem(code: Option<&str>) -> bool {
    matches!(
        code,
        Some("ERR_NGROK_4018") | Some("ERR_NGROK_105") | Some("ERR_NGROK_107")
    )
}

impl Tunnel for NgrokTunnel {
    async fn open(&mut self, local: &str) -> Result<String, TunnelError> {
        // A failed route check leads here again: the old session goes first (one session per account).
        self.forwarder = None;
        let Some(token) = self
            .options
            .authtoken
            .clone()
            .filter(|t| !t.trim().is_empty())
        else {
            return Err(TunnelError {
                message: format!("ngrok needs an authtoken: {TOKEN_HELP}."),
                retry: false,
            });
        };
        // reqwest and ngrok both bring rustls, with different crypto back ends enabled: name one.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut builder = ngrok::Session::builder();
        builder.authtoken(token.clone());
        if let Some(addr) = &self.options.server_addr {
            builder
                .server_addr(addr.clone())
                .map_err(|error| TunnelError {
                    message: format!("The ngrok server address {addr:?} is not valid ({error})."),
                    retry: false,
                })?;
        }
        let session = builder.connect().await.map_err(|error| {
            if is_token_problem(error.error_code()) {
                TunnelError {
                    message: format!(
                        "ngrok refused the authtoken ({}: {}); {TOKEN_HELP}.",
                        error.error_code().unwrap_or_default(),
                        redact(&error.msg(), &token)
                    ),
                    retry: false,
                }
            } else {
                TunnelError {
                    message: format!(
                        "ngrok cannot be reached ({}): this machine looks offline; Hookscope keeps trying.",
                        root_cause(&error)
                    ),
                    retry: true,
                }
            }
        })?;
        let mut endpoint = session.http_endpoint();
        if let Some(domain) = &self.options.domain {
            endpoint.domain(domain.clone());
        }
        let to = url::Url::parse(local).map_err(|error| TunnelError {
            message: format!("The receiver's address {local} is not a URL ({error})."),
            retry: false,
        })?;
        let forwarder = endpoint.listen_and_forward(to).await.map_err(|error| {
            let code = error.error_code().map(str::to_owned);
            TunnelError {
                message: match code.as_deref() {
                    Some(code) if is_token_problem(Some(code)) => {
                        format!("ngrok refused the authtoken ({code}); {TOKEN_HELP}.")
                    }
                    Some(code) => format!(
                        "ngrok could not open the endpoint ({code}: {}).",
                        error.msg()
                    ),
                    None => format!("ngrok could not open the endpoint ({error})."),
                },
                retry: !is_token_problem(code.as_deref()),
            }
        })?;
        let url = forwarder.url().trim_end_matches('/').to_owned();
        self.forwarder = Some(forwarder);
        Ok(url)
    }

    async fn closed(&mut self) -> String {
        // The session reconnects by itself after network blips; the forwarding task ends only when the
        // endpoint is gone (stopped from the dashboard, the session closed).
        match self.forwarder.as_mut() {
            Some(forwarder) => match forwarder.join().await {
                Ok(Ok(())) => "the ngrok endpoint was closed".to_owned(),
                Ok(Err(error)) => format!("the ngrok endpoint stopped ({error})"),
                Err(error) => format!("the ngrok forwarding task ended ({error})"),
            },
            None => std::future::pending().await,
        }
    }
}

fn root_cause(error: &dyn std::error::Error) -> String {
    let mut cause = error;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}

/// ngrok's own messages for a bad token quote it ("Your authtoken: …"); what Hookscope shows, stores and
/// toasts never does.
fn redact(message: &str, token: &str) -> String {
    if token.len() < 4 {
        return message.to_owned();
    }
    message.replace(token, "[your authtoken]")
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_quoted_authtoken_is_taken_out_of_ngrok_messages() {
        let token = "2abcSECRETtoken_XYZ";
        let said =
            format!("The authtoken you specified is invalid.\r\n\r\nYour authtoken: {token}");
        let shown = super::redact(&said, token);
        assert!(!shown.contains(token), "{shown}");
        assert!(shown.ends_with("Your authtoken: [your authtoken]"));
    }
}
