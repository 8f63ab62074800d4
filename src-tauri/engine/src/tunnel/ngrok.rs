//! The ngrok tunnel, through the `ngrok` crate: a session with the user's authtoken, an HTTPS endpoint
//! (on the account's static domain when one is set, so the URL survives restarts) forwarding to the
//! local receiver. Every ngrok error becomes text in `failure` alone, with the authtoken taken out: a
//! refused authtoken, account or domain is final with what to fix; anything else is retried.

use ngrok::config::ForwarderBuilder;
use ngrok::prelude::*;

use super::{Tunnel, TunnelError};

const TOKEN_HELP: &str = "get yours at https://dashboard.ngrok.com/get-started/your-authtoken and set NGROK_AUTHTOKEN (the app keeps it in the keyring)";

#[derive(Debug, Clone, Default)]
pub struct NgrokOptions {
    pub authtoken: Option<String>,
    /// The account's static domain (`HOOKSCOPE_NGROK_DOMAIN`): the same URL on every start.
    pub domain: Option<String>,
    /// Where ngrok's service is; only tests change it (to a closed local port, or a local stand-in).
    pub server_addr: Option<String>,
    /// The PEM root ngrok's service is checked against instead of ngrok's own; only tests set it, for
    /// their local stand-in of ngrok's service.
    pub ca_cert: Option<Vec<u8>>,
}

pub struct NgrokTunnel {
    options: NgrokOptions,
    /// Held while open: dropping the forwarder closes the endpoint.
    forwarder: Option<ngrok::forwarder::Forwarder<ngrok::tunnel::HttpTunnel>>,
    /// The refusal that made the session give up reconnecting, for `closed` to say (ngrok itself
    /// reports only that the reconnect was cancelled).
    refused: std::sync::Arc<std::sync::Mutex<Option<String>>>,
}

impl NgrokTunnel {
    pub fn new(options: NgrokOptions) -> NgrokTunnel {
        NgrokTunnel {
            options,
            forwarder: None,
            refused: Default::default(),
        }
    }
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
        let domain = self.options.domain.as_deref();
        // reqwest and ngrok both bring rustls, with different crypto back ends enabled: name one.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut builder = ngrok::Session::builder();
        builder.authtoken(token.clone());
        // ngrok's session reconnects by itself, and would retry a refused authtoken for ever while the
        // state still says online: a refusal ends the session instead, and the supervisor's next open
        // meets the same refusal and stops with its sentence.
        *self.refused.lock().unwrap_or_else(|e| e.into_inner()) = None;
        let (refused, said_token, said_domain) = (
            self.refused.clone(),
            token.clone(),
            domain.map(str::to_owned),
        );
        builder.connector(
            move |host: String,
                  port: u16,
                  tls: std::sync::Arc<rustls::ClientConfig>,
                  last: Option<ngrok::tunnel::AcceptError>| {
                let refusal = match &last {
                    Some(ngrok::tunnel::AcceptError::Reconnect(error))
                        if error.error_code().and_then(refusal).is_some() =>
                    {
                        Some(failure(&**error, &said_token, said_domain.as_deref()).message)
                    }
                    _ => None,
                };
                let refused = refused.clone();
                async move {
                    if let Some(message) = refusal {
                        *refused.lock().unwrap_or_else(|e| e.into_inner()) = Some(message);
                        return Err(ngrok::session::ConnectError::Canceled);
                    }
                    ngrok::session::default_connect(host, port, tls, last).await
                }
            },
        );
        if let Some(pem) = &self.options.ca_cert {
            builder.ca_cert(bytes::Bytes::from(pem.clone()));
        }
        if let Some(addr) = &self.options.server_addr {
            builder
                .server_addr(addr.clone())
                .map_err(|error| TunnelError {
                    message: format!(
                        "The ngrok server address {addr:?} is not valid ({}); fix HOOKSCOPE_NGROK_SERVER or unset it.",
                        redact(&error.to_string(), &token)
                    ),
                    retry: false,
                })?;
        }
        let session = builder
            .connect()
            .await
            .map_err(|error| failure(&error, &token, domain))?;
        let mut endpoint = session.http_endpoint();
        if let Some(domain) = domain {
            endpoint.domain(domain.to_owned());
        }
        let to = url::Url::parse(local).map_err(|error| TunnelError {
            message: format!("The receiver's address {local} is not a URL ({error})."),
            retry: false,
        })?;
        let forwarder = endpoint
            .listen_and_forward(to)
            .await
            .map_err(|error| failure(&error, &token, domain))?;
        let url = forwarder.url().trim_end_matches('/').to_owned();
        self.forwarder = Some(forwarder);
        Ok(url)
    }

    async fn closed(&mut self) -> String {
        // The session reconnects by itself after network blips; the forwarding task ends only when the
        // endpoint is gone (stopped from the dashboard, the session closed, a refused reconnect).
        let token = self.options.authtoken.clone().unwrap_or_default();
        let said = match self.forwarder.as_mut() {
            Some(forwarder) => match forwarder.join().await {
                Ok(Ok(())) => "the ngrok endpoint was closed".to_owned(),
                // ngrok gave up reconnecting on a refusal: it says why, in the same words as open's.
                Ok(Err(error)) => self
                    .refused
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .take()
                    .unwrap_or_else(|| format!("the ngrok endpoint stopped ({error})")),
                Err(error) => format!("the ngrok forwarding task ended ({error})"),
            },
            None => std::future::pending().await,
        };
        redact(&said, &token)
    }
}

/// What the user must fix when ngrok refuses, by ngrok's error code
/// (https://ngrok.com/docs/errors/reference): retrying cannot help with any of these.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The authtoken is malformed, from ngrok v1, reset or revoked, or missing.
    Authtoken,
    /// The account cannot start a session: a failed payment, a suspension, its limit of simultaneous
    /// sessions, its IP restrictions, an unverified email.
    Account,
    /// The static domain is not this account's, needs a paid plan, or must be reserved first.
    Domain,
}

/// The refusal an ngrok error code stands for; None for what may pass (the network, ngrok's own
/// trouble), which the supervisor retries.
pub fn refusal(code: &str) -> Option<Refusal> {
    match code {
        "ERR_NGROK_105" | "ERR_NGROK_106" | "ERR_NGROK_107" | "ERR_NGROK_109"
        | "ERR_NGROK_4018" => Some(Refusal::Authtoken),
        "ERR_NGROK_102" | "ERR_NGROK_103" | "ERR_NGROK_108" | "ERR_NGROK_115" | "ERR_NGROK_116"
        | "ERR_NGROK_118" | "ERR_NGROK_1200" => Some(Refusal::Account),
        "ERR_NGROK_310" | "ERR_NGROK_314" | "ERR_NGROK_320" | "ERR_NGROK_354"
        | "ERR_NGROK_7117" | "ERR_NGROK_7118" => Some(Refusal::Domain),
        _ => None,
    }
}

/// The one way an ngrok error becomes text, for the state's reason, the bus, the logs and the errors
/// returned alike: the authtoken is taken out of everything ngrok said (its refusals quote it), a
/// refusal is final with what to fix, anything else is retried.
pub fn failure<E: ngrok::Error>(error: &E, authtoken: &str, domain: Option<&str>) -> TunnelError {
    let code = error.error_code();
    let said = |text: &str| redact(&first_line(text), authtoken);
    match (code, code.and_then(refusal)) {
        (Some(code), Some(Refusal::Authtoken)) => TunnelError {
            message: format!(
                "ngrok refused the authtoken ({code}: {}); {TOKEN_HELP}.",
                said(&error.msg())
            ),
            retry: false,
        },
        (Some(code), Some(Refusal::Account)) => TunnelError {
            message: format!(
                "ngrok refused this account ({code}: {}); fix it on https://dashboard.ngrok.com, then start the tunnel again.",
                said(&error.msg())
            ),
            retry: false,
        },
        (Some(code), Some(Refusal::Domain)) => TunnelError {
            message: format!(
                "ngrok refused the domain {} ({code}: {}); reserve it for this authtoken's account at https://dashboard.ngrok.com/domains, or clear the ngrok domain setting for a random URL.",
                domain.unwrap_or("you set"),
                said(&error.msg())
            ),
            retry: false,
        },
        (Some(code), None) => TunnelError {
            message: format!(
                "ngrok refused the tunnel ({code}: {}); Hookscope keeps trying.",
                said(&error.msg())
            ),
            retry: true,
        },
        (None, _) => TunnelError {
            message: format!(
                "ngrok cannot be reached ({}): this machine looks offline; Hookscope keeps trying.",
                redact(&root_cause(error), authtoken)
            ),
            retry: true,
        },
    }
}

/// ngrok's first line, without its closing period: the rest repeats the token or links to help pages
/// the sentence around it already gives.
fn first_line(text: &str) -> String {
    text.lines()
        .map(str::trim)
        .find(|line| !line.is_empty())
        .unwrap_or("no detail")
        .trim_end_matches('.')
        .to_owned()
}

fn root_cause(error: &dyn std::error::Error) -> String {
    let mut cause = error;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}

/// ngrok's own messages for a bad token quote it ("Your authtoken: …"); what Hookscope shows, stores,
/// logs and toasts never does. Too short a token is not searched for: it would blank out ordinary
/// words, and ngrok refuses it as malformed anyway.
fn redact(message: &str, token: &str) -> String {
    let token = token.trim();
    if token.len() < 4 {
        return message.to_owned();
    }
    message.replace(token, "[your authtoken]")
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOKEN: &str = "2abcSECRETtoken_XYZ";

    /// An ngrok error as the crate hands one over: a code when ngrok's server refused, and its message.
    #[derive(Debug)]
    struct Said {
        code: Option<&'static str>,
        msg: String,
        cause: Option<std::io::Error>,
    }

    impl std::fmt::Display for Said {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str(&self.msg)
        }
    }

    impl std::error::Error for Said {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            self.cause.as_ref().map(|c| c as _)
        }
    }

    impl ngrok::Error for Said {
        fn error_code(&self) -> Option<&str> {
            self.code
        }
        fn msg(&self) -> String {
            self.msg.clone()
        }
    }

    fn refused(code: &'static str, msg: String) -> Said {
        Said {
            code: Some(code),
            msg,
            cause: None,
        }
    }

    #[test]
    fn a_quoted_authtoken_is_taken_out_of_ngrok_messages() {
        let said =
            format!("The authtoken you specified is invalid.\r\n\r\nYour authtoken: {TOKEN}");
        assert_eq!(
            redact(&said, TOKEN),
            "The authtoken you specified is invalid.\r\n\r\nYour authtoken: [your authtoken]"
        );
        assert_eq!(
            redact("abc abc", "abc"),
            "abc abc",
            "too short to search for"
        );
    }

    #[test]
    fn each_refusal_code_is_final_and_anything_else_is_retried() {
        for code in [
            "ERR_NGROK_105",
            "ERR_NGROK_106",
            "ERR_NGROK_107",
            "ERR_NGROK_109",
            "ERR_NGROK_4018",
        ] {
            assert_eq!(refusal(code), Some(Refusal::Authtoken), "{code}");
        }
        for code in [
            "ERR_NGROK_102",
            "ERR_NGROK_103",
            "ERR_NGROK_108",
            "ERR_NGROK_115",
            "ERR_NGROK_116",
            "ERR_NGROK_118",
            "ERR_NGROK_1200",
        ] {
            assert_eq!(refusal(code), Some(Refusal::Account), "{code}");
        }
        for code in [
            "ERR_NGROK_310",
            "ERR_NGROK_314",
            "ERR_NGROK_320",
            "ERR_NGROK_354",
            "ERR_NGROK_7117",
            "ERR_NGROK_7118",
        ] {
            assert_eq!(refusal(code), Some(Refusal::Domain), "{code}");
        }
        // ngrok's own trouble, and a fresh endpoint not routing yet, pass with time.
        for code in ["ERR_NGROK_128", "ERR_NGROK_3200", "ERR_NGROK_107 ", ""] {
            assert_eq!(refusal(code), None, "{code:?}");
        }
    }

    #[test]
    fn a_refused_authtoken_says_where_to_get_one_without_quoting_it() {
        let said = format!(
            "The authtoken you specified is properly formed, but it is invalid.\n\nYour authtoken: {TOKEN}\n\nThis usually happens when:\n- You reset your authtoken"
        );
        assert_eq!(
            failure(&refused("ERR_NGROK_107", said), TOKEN, None),
            TunnelError {
                message: "ngrok refused the authtoken (ERR_NGROK_107: The authtoken you specified is properly formed, but it is invalid); get yours at https://dashboard.ngrok.com/get-started/your-authtoken and set NGROK_AUTHTOKEN (the app keeps it in the keyring).".into(),
                retry: false,
            }
        );
        // A first line that quotes the token is redacted too.
        let said = format!(
            "The authtoken you specified does not look like a proper ngrok authtoken: {TOKEN}"
        );
        assert_eq!(
            failure(&refused("ERR_NGROK_105", said), TOKEN, None).message,
            "ngrok refused the authtoken (ERR_NGROK_105: The authtoken you specified does not look like a proper ngrok authtoken: [your authtoken]); get yours at https://dashboard.ngrok.com/get-started/your-authtoken and set NGROK_AUTHTOKEN (the app keeps it in the keyring)."
        );
    }

    #[test]
    fn account_and_domain_refusals_say_what_to_fix() {
        assert_eq!(
            failure(
                &refused("ERR_NGROK_108", "Your account is limited to 1 simultaneous ngrok agent sessions.".into()),
                TOKEN,
                None
            ),
            TunnelError {
                message: "ngrok refused this account (ERR_NGROK_108: Your account is limited to 1 simultaneous ngrok agent sessions); fix it on https://dashboard.ngrok.com, then start the tunnel again.".into(),
                retry: false,
            }
        );
        assert_eq!(
            failure(
                &refused(
                    "ERR_NGROK_320",
                    format!("This domain is reserved for another account.\nFailed to create an endpoint with the domain hooks.ngrok.app for the account {TOKEN}.")
                ),
                TOKEN,
                Some("hooks.ngrok.app")
            ),
            TunnelError {
                message: "ngrok refused the domain hooks.ngrok.app (ERR_NGROK_320: This domain is reserved for another account); reserve it for this authtoken's account at https://dashboard.ngrok.com/domains, or clear the ngrok domain setting for a random URL.".into(),
                retry: false,
            }
        );
    }

    #[test]
    fn other_errors_are_retried_and_redacted_too() {
        assert_eq!(
            failure(
                &refused("ERR_NGROK_128", format!("Something went wrong for {TOKEN}.")),
                TOKEN,
                None
            ),
            TunnelError {
                message: "ngrok refused the tunnel (ERR_NGROK_128: Something went wrong for [your authtoken]); Hookscope keeps trying.".into(),
                retry: true,
            }
        );
        let offline = Said {
            code: None,
            msg: "failed to establish tcp connection".into(),
            cause: Some(std::io::Error::new(
                std::io::ErrorKind::ConnectionRefused,
                format!("refused while sending {TOKEN}"),
            )),
        };
        assert_eq!(
            failure(&offline, TOKEN, None),
            TunnelError {
                message: "ngrok cannot be reached (refused while sending [your authtoken]): this machine looks offline; Hookscope keeps trying.".into(),
                retry: true,
            }
        );
    }
}
