//! The command line: argument parsing (the contract in the README's "Command line") and dispatch to one file per command.
//! Every failure ends as exactly one line on stderr and a non-zero exit.

mod certificates;
mod doctor;
mod export;
mod graph;
mod listen;
mod lists;
mod login;
mod output;
mod prune;
mod replay;
mod resource;
mod simulate;
mod subscribe;
mod subscriptions;
mod trigger;
mod tunnel;

use std::net::IpAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use hookscope_engine::config::{self, DEFAULT_PORT};
use hookscope_engine::{Durability, Engine, EngineConfig};

#[derive(Parser)]
#[command(
    name = "hookscope",
    version,
    about = "Microsoft Graph change notifications, live on your desktop."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Args, Clone, Debug)]
pub struct Global {
    /// Where Hookscope keeps its database (shared by the app and every command).
    #[arg(long, env = "HOOKSCOPE_DATA_DIR", global = true)]
    pub data_dir: Option<PathBuf>,
    /// fsync on every commit (full) or only at checkpoints (normal).
    #[arg(long, env = "HOOKSCOPE_DURABILITY", global = true, value_enum, default_value_t = DurabilityArg::Full)]
    pub durability: DurabilityArg,
    /// Log to stderr (RUST_LOG refines it).
    #[arg(short, long, global = true)]
    pub verbose: bool,
    /// Graph's root URL (API calls go to {graph-url}/v1.0/...); a running simulator's URL for `trigger`.
    #[arg(long, env = "HOOKSCOPE_GRAPH_URL", global = true)]
    pub graph_url: Option<String>,
    /// The login host (token endpoint {login-url}/{tenant}/oauth2/v2.0/token).
    #[arg(long, env = "HOOKSCOPE_LOGIN_URL", global = true)]
    pub login_url: Option<String>,
    /// The national cloud that sets both URLs: global, usgov, dod or china.
    #[arg(long, env = "HOOKSCOPE_CLOUD", global = true)]
    pub cloud: Option<String>,
}

#[derive(ValueEnum, Clone, Copy, Debug)]
pub enum DurabilityArg {
    Full,
    Normal,
}

#[derive(Subcommand)]
pub enum Command {
    /// Run the receiver headless until Ctrl-C, printing one line per event.
    Listen(ListenArgs),
    /// Check every link from Graph to this receiver and say what to fix.
    Doctor(DoctorArgs),
    /// Sign in to Graph once: an app with its client secret, or yourself with a device code.
    Login(LoginArgs),
    /// Forget the stored sign-in and its secrets.
    Logout,
    /// Create a Graph subscription pointing at the running receiver.
    Subscribe(SubscribeArgs),
    /// The subscriptions Hookscope keeps (or, with --remote, those Graph holds); renew or delete one.
    Subscriptions(SubscriptionsArgs),
    /// Stored notifications, newest first.
    Notifications(NotificationsArgs),
    /// Stored notifications as JSON Lines or a HAR log (requests with bodies and answers), filtered.
    Export(ExportArgs),
    /// Every HTTP request the receiver got, valid or not, with its answer; newest first.
    Requests(RequestsArgs),
    /// Run the Graph simulator (Microsoft's side on loopback) until Ctrl-C.
    Simulate(SimulateArgs),
    /// Make the running simulator notify the subscriptions it holds.
    Trigger(TriggerArgs),
    /// The certificates rich notifications are encrypted with: list, generate, import, rotate, export, prune.
    Certificates(CertificatesArgs),
    /// Send a stored delivery again: to the receiver, as if from Graph, or --to your app; edits first.
    Replay(ReplayArgs),
    /// Read the resource a stored notification named from Graph, as it is now (with $select).
    Resource(ResourceArgs),
    /// Delete stored deliveries older than a number of days, with their requests and answers.
    Prune(PruneArgs),
    /// The ngrok tunnel's settings: keep your authtoken in the keyring, or forget it.
    #[command(name = "tunnel")]
    TunnelSettings(TunnelSettingsArgs),
}

#[derive(Args)]
pub struct TunnelSettingsArgs {
    #[command(subcommand)]
    pub action: TunnelAction,
}

#[derive(Subcommand)]
pub enum TunnelAction {
    /// Read your ngrok authtoken from stdin (or a prompt) and keep it in the keyring for `--tunnel ngrok`.
    Authtoken,
    /// Delete the kept authtoken.
    Forget,
}

#[derive(Args)]
pub struct CertificatesArgs {
    #[command(subcommand)]
    pub action: Option<CertificatesAction>,
    #[arg(long)]
    pub json: bool,
}

#[derive(Subcommand)]
pub enum CertificatesAction {
    /// Each certificate with its thumbprint and whether new rich subscriptions get it (the default).
    List {
        #[arg(long)]
        json: bool,
    },
    /// A new RSA key and self-signed certificate; it becomes the active one.
    Generate {
        /// 2048 or 4096.
        #[arg(long, default_value_t = 2048)]
        bits: usize,
        #[arg(long)]
        json: bool,
    },
    /// Import a PFX / PKCS#12 file or a PEM file holding the certificate and its private key.
    Import {
        file: PathBuf,
        /// The PFX password (also HOOKSCOPE_PFX_PASSWORD, so it stays out of the shell history).
        #[arg(long, env = "HOOKSCOPE_PFX_PASSWORD", hide_env_values = true)]
        password: Option<String>,
        /// The encryptionCertificateId Graph will echo; a fresh one when not given.
        #[arg(long)]
        id: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Generate a new active certificate; the old ones stay to decrypt until `prune`.
    Rotate {
        #[arg(long, default_value_t = 2048)]
        bits: usize,
        #[arg(long)]
        json: bool,
    },
    /// Print a certificate's public half as PEM.
    Export { id: String },
    /// Delete retired certificates no subscription still uses, with their private keys.
    Prune {
        #[arg(long)]
        json: bool,
    },
}

#[derive(Args)]
pub struct SimulateArgs {
    /// Port on 127.0.0.1; 0 picks any free port.
    #[arg(long, default_value_t = 0)]
    pub port: u16,
    #[arg(long, default_value = "127.0.0.1")]
    pub bind: IpAddr,
    /// Honour lifetimes shorter than Graph's 45-minute minimum and shrink Graph's delivery timers.
    #[arg(long)]
    pub fast_time: bool,
    /// Refuse validation answers that are not text/plain (Graph itself is lenient).
    #[arg(long)]
    pub strict_content_type: bool,
    /// The longest Outlook lifetime in minutes (docs: 10080; seen live: 10070; older docs: 4230).
    #[arg(long, default_value_t = 10_080)]
    pub outlook_max_minutes: u32,
    /// Validation tokens in v1 (appid) or v2 (azp) form.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u8).range(1..=2))]
    pub token_version: u8,
    /// JSON Lines instead of text.
    #[arg(long)]
    pub json: bool,
}

#[derive(Args)]
pub struct TriggerArgs {
    /// A resource path (/me/messages) or a resource name (message); default: every subscription.
    #[arg(long)]
    pub resource: Option<String>,
    /// Only this subscription.
    #[arg(long)]
    pub subscription: Option<String>,
    /// created, updated or deleted (default: the subscription's first).
    #[arg(long)]
    pub change_type: Option<String>,
    /// Changes per subscription.
    #[arg(long, default_value_t = 1)]
    pub count: u32,
    /// Send a lifecycle event instead of changes.
    #[arg(long, value_enum)]
    pub lifecycle: Option<LifecycleArg>,
    /// Only subscriptions with resource data (encrypted, with validation tokens).
    #[arg(long)]
    pub rich: bool,
    /// Send every batch twice, as Graph's retries sometimes do.
    #[arg(long)]
    pub duplicate: bool,
    /// Send a forged or damaged variant: client-state, hmac, ciphertext, certificate-id, audience,
    /// expired, not-yet-valid, publisher, issuer, signature, alg-none, tokens-null.
    #[arg(long)]
    pub tamper: Option<String>,
    /// Validation tokens in v1 (appid) or v2 (azp) form (default: the simulator's setting).
    #[arg(long, value_parser = clap::value_parser!(u8).range(1..=2))]
    pub token_version: Option<u8>,
    /// JSON Lines instead of text.
    #[arg(long)]
    pub json: bool,
}

#[derive(ValueEnum, Clone, Copy, Debug)]
#[value(rename_all = "camelCase")]
pub enum LifecycleArg {
    ReauthorizationRequired,
    SubscriptionRemoved,
    Missed,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tunnel {
    /// Local only: Graph cannot reach the receiver (the simulator and your own tunnel can).
    None,
    /// An ngrok tunnel Hookscope opens itself (NGROK_AUTHTOKEN; HOOKSCOPE_NGROK_DOMAIN for a fixed URL).
    Ngrok,
}

#[derive(Args)]
pub struct ListenArgs {
    /// Port on the bind address; 0 picks any free port.
    #[arg(long, env = "HOOKSCOPE_PORT", default_value_t = DEFAULT_PORT)]
    pub port: u16,
    #[arg(long, default_value = "127.0.0.1")]
    pub bind: IpAddr,
    /// Where the receiver's root is reachable from outside (your own tunnel or proxy).
    #[arg(long)]
    pub public_url: Option<String>,
    #[arg(long, value_enum, default_value_t = Tunnel::None)]
    pub tunnel: Tunnel,
    /// Bodies larger than this many bytes are answered 413.
    #[arg(long, default_value_t = config::DEFAULT_BODY_LIMIT)]
    pub body_limit: usize,
    /// Batches with more notifications than this are answered 413 (Graph sends far fewer).
    #[arg(long, default_value_t = config::DEFAULT_MAX_ITEMS)]
    pub max_items: usize,
    /// Connections open at once; one more is answered 503 and closed.
    #[arg(long, default_value_t = config::DEFAULT_MAX_CONNECTIONS)]
    pub max_connections: usize,
    /// How long a connection may take to send a request head, and stay idle between requests (5s, 1m).
    #[arg(long, default_value = "10s")]
    pub header_timeout: String,
    /// How long a request may take to send its body after its head (5s, 1m).
    #[arg(long, default_value = "10s")]
    pub body_timeout: String,
    /// Hand each accepted delivery on to your own app, after Hookscope stored and acknowledged it.
    #[arg(long, env = "HOOKSCOPE_FORWARD_TO")]
    pub forward_to: Option<String>,
    /// With --forward-to: pass Graph's validation requests to your app too and answer with its answer.
    #[arg(long, requires = "forward_to")]
    pub forward_handshake: bool,
    /// With --forward-to: how long your app may take to answer (500ms, 10s, 1m; a handshake gets at most 5s).
    #[arg(long, default_value = "10s", requires = "forward_to")]
    pub forward_timeout: String,
    /// JSON Lines instead of text.
    #[arg(long)]
    pub json: bool,
}

#[derive(Args)]
pub struct ReplayArgs {
    /// A request id (`hookscope requests`) or a notification id (`hookscope notifications`).
    pub id: String,
    /// Send it here instead of to the running receiver (your app, say).
    #[arg(long)]
    pub to: Option<String>,
    /// Replace the body with this file's contents first.
    #[arg(long)]
    pub body_file: Option<PathBuf>,
    /// Set a header first (`Name: value`); an empty value removes it. Repeatable.
    #[arg(long = "header")]
    pub headers: Vec<String>,
    #[arg(long)]
    pub json: bool,
}

#[derive(Args)]
pub struct ResourceArgs {
    /// A notification id (`hookscope notifications`).
    pub id: String,
    /// Properties to read, comma-separated (`subject,from`); all of them when not given.
    #[arg(long, default_value = "")]
    pub select: String,
    #[arg(long)]
    pub json: bool,
}

#[derive(Args)]
pub struct PruneArgs {
    /// Delete what arrived more than this many days ago.
    #[arg(long, value_name = "DAYS")]
    pub older_than: u32,
    #[arg(long)]
    pub json: bool,
}

#[derive(Args)]
pub struct DoctorArgs {
    #[arg(long)]
    pub json: bool,
}

#[derive(Args)]
pub struct LoginArgs {
    /// The directory (tenant) id; default: the running simulator's.
    #[arg(long)]
    pub tenant: Option<String>,
    /// The app registration's client id; default: the running simulator's.
    #[arg(long)]
    pub client_id: Option<String>,
    /// Sign in as yourself (delegated) with a code shown here, instead of as the app.
    #[arg(long)]
    pub device_code: bool,
    /// Delegated scopes to ask for (offline_access is added).
    #[arg(long)]
    pub scopes: Option<String>,
    /// Read the client secret from the first line of stdin instead of a prompt.
    #[arg(long)]
    pub client_secret_stdin: bool,
    #[arg(long)]
    pub json: bool,
}

#[derive(Args)]
pub struct SubscribeArgs {
    /// What to watch: users/{id}/messages, groups, communications/presences/{id}, …
    #[arg(long)]
    pub resource: String,
    /// created, updated, deleted; several with commas.
    #[arg(long)]
    pub change_type: String,
    /// How long: 90s, 45m, 2h, 3d, or max (the resource's longest).
    #[arg(long, default_value = "max")]
    pub expires_in: String,
    /// Include the changed resource, encrypted, in each notification.
    #[arg(long)]
    pub rich: bool,
    /// Do not ask Graph for lifecycle events (reauthorizationRequired, subscriptionRemoved, missed).
    #[arg(long)]
    pub no_lifecycle: bool,
    /// Let it expire instead of renewing it.
    #[arg(long)]
    pub no_auto_renew: bool,
    /// Where Graph delivers (default: the running receiver's public URL).
    #[arg(long)]
    pub notification_url: Option<String>,
    #[arg(long)]
    pub json: bool,
}

#[derive(Args)]
pub struct SubscriptionsArgs {
    #[command(subcommand)]
    pub action: Option<SubscriptionsAction>,
    /// List what Graph holds for this app, marking orphans (at Graph, unknown here).
    #[arg(long)]
    pub remote: bool,
    #[arg(long)]
    pub json: bool,
}

#[derive(Subcommand)]
pub enum SubscriptionsAction {
    /// Status and time left of each subscription (the default).
    List {
        #[arg(long)]
        remote: bool,
        #[arg(long)]
        json: bool,
    },
    /// Move a subscription's expiry now.
    Renew {
        id: String,
        /// 90s, 45m, 2h, 3d, or max.
        #[arg(long, default_value = "max")]
        expires_in: String,
        #[arg(long)]
        json: bool,
    },
    /// Delete it at Graph (an orphan too) and stop keeping it.
    Delete {
        id: String,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Args)]
pub struct NotificationsArgs {
    #[arg(long)]
    pub json: bool,
    /// How many, newest first; 0 means all.
    #[arg(long, default_value_t = 100)]
    pub limit: u32,
    #[arg(long)]
    pub subscription: Option<String>,
}

#[derive(ValueEnum, Clone, Copy, Debug)]
pub enum ExportFormatArg {
    /// One notification per line, as `notifications --json` prints them.
    Jsonl,
    /// HAR 1.2: each request with its headers, body byte for byte and Hookscope's answer.
    Har,
}

#[derive(ValueEnum, Clone, Copy, Debug)]
pub enum VerdictArg {
    Accepted,
    Rejected,
    Duplicate,
    Decrypted,
    TokensInvalid,
    Lifecycle,
    Replayed,
}

#[derive(Args)]
pub struct ExportArgs {
    #[arg(long, value_enum, default_value_t = ExportFormatArg::Jsonl)]
    pub format: ExportFormatArg,
    /// Write here instead of stdout.
    #[arg(long)]
    pub out: Option<std::path::PathBuf>,
    #[arg(long)]
    pub subscription: Option<String>,
    /// created, updated or deleted.
    #[arg(long = "change-type")]
    pub change_type: Option<String>,
    #[arg(long, value_enum)]
    pub verdict: Option<VerdictArg>,
    /// Only notifications whose item, decrypted content or refusal reason contains this text.
    #[arg(long)]
    pub search: Option<String>,
    /// Only notifications received at or after this RFC 3339 time.
    #[arg(long)]
    pub since: Option<String>,
}

#[derive(Args)]
pub struct RequestsArgs {
    #[arg(long)]
    pub json: bool,
    #[arg(long, default_value_t = 100)]
    pub limit: u32,
}

/// Help and version print as clap renders them; a usage error becomes one line.
pub fn parse() -> Result<Cli, i32> {
    Cli::try_parse().map_err(|error| {
        use clap::error::ErrorKind;
        if matches!(
            error.kind(),
            ErrorKind::DisplayHelp | ErrorKind::DisplayVersion
        ) {
            let _ = error.print();
            return 0;
        }
        let rendered = error.render().to_string();
        let first = rendered
            .lines()
            .next()
            .unwrap_or("invalid arguments")
            .trim_start_matches("error: ");
        output::error_line(format_args!("{first} (see hookscope --help)"));
        2
    })
}

pub fn init_logging(verbose: bool) {
    let wanted = verbose || std::env::var_os("RUST_LOG").is_some();
    if !wanted {
        return;
    }
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn"));
    // The ngrok crate logs its server's refusals word for word at debug level, and those quote the
    // authtoken: whatever RUST_LOG asks, its modules log from info up (Hookscope reports their errors,
    // redacted, itself).
    let filter = ["ngrok=info", "muxado=info"]
        .into_iter()
        .filter_map(|directive| directive.parse().ok())
        .fold(filter, |filter, directive| filter.add_directive(directive));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

pub fn engine_config(global: &Global) -> anyhow::Result<EngineConfig> {
    let mut cfg = EngineConfig::new(config::resolve_data_dir(global.data_dir.as_deref())?);
    cfg.durability = match global.durability {
        DurabilityArg::Full => Durability::Full,
        DurabilityArg::Normal => Durability::Normal,
    };
    Ok(cfg)
}

pub fn run(global: &Global, command: Command) -> i32 {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("Cannot start the async runtime: {error}.");
            return 1;
        }
    };
    let result = runtime.block_on(async {
        let config = engine_config(global)?;
        let command = match command {
            Command::Simulate(args) => return simulate::run(&config, args).await,
            Command::Trigger(args) => return trigger::run(&config, global, args).await,
            other => other,
        };
        let engine = match command {
            Command::Listen(_)
            | Command::Subscribe(_)
            | Command::Subscriptions(_)
            | Command::Login(_)
            | Command::Logout
            | Command::Certificates(_)
            | Command::Prune(_) => Engine::open(config).await?,
            _ => Engine::open_reader(config).await?,
        };
        // Said by whichever command found the data readable by others; the next start finds it private.
        if let Some(notice) = engine.privacy_notice() {
            output::error_line(notice);
        }
        let outcome = match command {
            Command::Listen(args) => listen::run(&engine, global, args).await,
            Command::Subscribe(args) => subscribe::run(&engine, global, args).await,
            Command::Login(args) => login::run(&engine, global, args).await,
            Command::Logout => login::logout(&engine).await,
            Command::Doctor(args) => doctor::run(&engine, global, args).await,
            Command::Subscriptions(args) => subscriptions::run(&engine, global, args).await,
            Command::Notifications(args) => lists::notifications(&engine, args).await,
            Command::Export(args) => export::run(&engine, args).await,
            Command::Requests(args) => lists::requests(&engine, args).await,
            Command::Certificates(args) => certificates::run(&engine, args).await,
            Command::Replay(args) => replay::run(&engine, args).await,
            Command::Resource(args) => resource::run(&engine, global, args).await,
            Command::Prune(args) => prune::run(&engine, args).await,
            Command::TunnelSettings(args) => tunnel::run(&engine, args).await,
            Command::Simulate(_) | Command::Trigger(_) => unreachable!("handled without a store"),
        };
        engine.close().await;
        outcome
    });
    match result {
        Ok(()) => 0,
        Err(error) => {
            // Graph's answers and delivered text end up in errors: the line is escaped like any other.
            let line = error.to_string().replace('\n', " ");
            output::error_line(line);
            1
        }
    }
}
