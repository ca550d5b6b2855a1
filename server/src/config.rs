//! All configuration in one place: command-line flags, each with an environment variable.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

/// Curio: a shop that learns what each shopper likes.
#[derive(Debug, Parser)]
#[command(name = "curio", version, about)]
pub struct Cli {
    /// What to do; `serve` when omitted.
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Settings shared by every command.
    #[command(flatten)]
    pub config: Config,
}

/// The commands of the `curio` binary.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the web shop (the default).
    Serve,
    /// Create the database if needed, apply migrations and exit.
    Migrate,
    /// Evaluate recommendation models offline on a split of interaction data.
    Eval(crate::cli::eval::EvalArgs),
    /// Train a neural model (NeuMF or two-tower) and write it to a file.
    Train(crate::cli::train::TrainArgs),
    /// Import products and interactions from data files (one transaction; re-runnable).
    Import(crate::cli::import::ImportArgs),
    /// Write the catalogue and the interaction log as JSON lines.
    Export(crate::cli::import::ExportArgs),
    /// Manage the admin accounts that see the merchant's insights.
    Admin(crate::cli::admin::AdminArgs),
}

/// Settings shared by every command.
#[derive(Debug, Clone, clap::Args)]
pub struct Config {
    /// Address and port to listen on.
    #[arg(
        long,
        env = "CURIO_ADDR",
        default_value = "127.0.0.1:3000",
        global = true
    )]
    pub addr: SocketAddr,

    /// Database URL. `postgres://...` selects PostgreSQL; `sqlite://...` a SQLite file.
    /// When unset, the embedded SQLite database `<data-dir>/curio.db` is used.
    #[arg(long, env = "DATABASE_URL", global = true)]
    pub database_url: Option<String>,

    /// Directory for the embedded database and other local state; created if missing.
    #[arg(long, env = "CURIO_DATA_DIR", default_value = "data", global = true)]
    pub data_dir: PathBuf,

    /// Log filter, in tracing's `EnvFilter` syntax (`info`, `curio=debug,sqlx=warn`, ...).
    #[arg(long, env = "CURIO_LOG", default_value = "info", global = true)]
    pub log: String,

    /// Directory with the built site (JS, WASM, CSS and public assets).
    #[arg(
        long,
        env = "LEPTOS_SITE_ROOT",
        default_value = "target/site",
        global = true
    )]
    pub site_root: String,

    /// The origin shoppers' browsers use, e.g. `https://shop.example`, when it differs from
    /// what the server sees (behind a reverse proxy). State-changing requests must come
    /// from exactly this origin; unset, the request's `Host` is the expected origin.
    #[arg(long, env = "CURIO_PUBLIC_ORIGIN", value_parser = parse_origin, global = true)]
    pub public_origin: Option<String>,

    /// Take the client address from the last `X-Forwarded-For` entry (the one the reverse
    /// proxy in front of Curio added). Only set this behind a proxy that sets it.
    #[arg(long, env = "CURIO_TRUST_FORWARDED_FOR", global = true)]
    pub trust_forwarded_for: bool,

    /// Whether session cookies get the `Secure` attribute. `auto`: yes when the public
    /// origin is `https://`, else unless listening on a loopback address.
    #[arg(long, env = "CURIO_SECURE_COOKIES", value_enum, default_value_t = SecureCookies::Auto, global = true)]
    pub secure_cookies: SecureCookies,

    /// Minutes without a request after which a session ends.
    #[arg(
        long,
        env = "CURIO_SESSION_IDLE_MINUTES",
        default_value_t = 30,
        global = true
    )]
    pub session_idle_minutes: u32,

    /// Hours after logging in after which a session ends however active it is.
    #[arg(
        long,
        env = "CURIO_SESSION_MAX_HOURS",
        default_value_t = 12,
        global = true
    )]
    pub session_max_hours: u32,

    /// Start with an empty catalogue instead of generating the demo shop on first start.
    #[arg(long, env = "CURIO_NO_DEMO_DATA", global = true)]
    pub no_demo_data: bool,

    /// Largest request body accepted, in bytes.
    #[arg(long, env = "CURIO_MAX_BODY_BYTES", default_value_t = 64 * 1024, global = true)]
    pub max_body_bytes: usize,

    /// Models the shop trains and serves, comma-separated.
    #[arg(
        long,
        env = "CURIO_MODELS",
        value_delimiter = ',',
        default_values_t = curio::registry::serve_defaults(),
        global = true
    )]
    pub models: Vec<String>,

    /// The recommendation strategy (TOML; the built-in `src/strategy.toml` otherwise).
    #[arg(long, env = "CURIO_STRATEGY", global = true)]
    pub strategy: Option<PathBuf>,

    /// Model hyper-parameters (TOML, as for `curio eval --params`).
    #[arg(long, env = "CURIO_MODEL_PARAMS", global = true)]
    pub model_params: Option<PathBuf>,

    /// Retrain every this many minutes (0: never on a schedule).
    #[arg(
        long,
        env = "CURIO_RETRAIN_MINUTES",
        default_value_t = 60,
        global = true
    )]
    pub retrain_minutes: u64,

    /// Retrain after this many new events (0: never on volume).
    #[arg(
        long,
        env = "CURIO_RETRAIN_EVENTS",
        default_value_t = 5_000,
        global = true
    )]
    pub retrain_events: u64,

    /// At each retrain but a first start's, try this many parameter sets per classical
    /// model (item-kNN, user-kNN, EASE, ALS, BPR, session-kNN) on a validation split
    /// nested in the log, and serve the best (0: the parameters given).
    #[arg(long, env = "CURIO_TUNE_TRIALS", default_value_t = 0, global = true)]
    pub tune_trials: usize,

    /// Serve the quick models only: no background training, no retraining, no polling
    /// for versions published by `curio train --publish`.
    #[arg(long, env = "CURIO_NO_BACKGROUND_TRAINING", global = true)]
    pub no_background_training: bool,
}

/// When to mark session cookies `Secure`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SecureCookies {
    /// Secure unless the server listens on a loopback address.
    Auto,
    /// Always (behind a TLS-terminating proxy).
    Always,
    /// Never (local development only).
    Never,
}

impl Config {
    /// Whether to set `Secure` on cookies, resolving `auto` against the listen address.
    pub fn cookies_secure(&self) -> bool {
        match self.secure_cookies {
            SecureCookies::Always => true,
            SecureCookies::Never => false,
            SecureCookies::Auto => match &self.public_origin {
                Some(origin) => origin.starts_with("https://"),
                None => !self.addr.ip().is_loopback(),
            },
        }
    }

    /// A configuration for tests: the defaults, whatever the environment says, with the
    /// given database URL and data directory.
    pub fn for_tests(database_url: String, data_dir: PathBuf) -> Self {
        Self {
            addr: SocketAddr::from(([127, 0, 0, 1], 3000)),
            database_url: Some(database_url),
            data_dir,
            log: "info".into(),
            site_root: "target/site".into(),
            no_demo_data: true,
            public_origin: None,
            trust_forwarded_for: false,
            secure_cookies: SecureCookies::Auto,
            session_idle_minutes: 30,
            session_max_hours: 12,
            max_body_bytes: 64 * 1024,
            models: curio::registry::MODELS
                .iter()
                .filter(|m| m.quick)
                .map(|m| m.name.to_string())
                .collect(),
            strategy: None,
            model_params: None,
            retrain_minutes: 0,
            retrain_events: 0,
            tune_trials: 0,
            no_background_training: true,
        }
    }

    /// The recommendation service's settings.
    pub fn recs(&self) -> crate::recs::RecsConfig {
        let mut recs = if self.no_background_training {
            crate::recs::RecsConfig::quiet(self.models.clone())
        } else {
            crate::recs::RecsConfig::serving(self.models.clone())
        };
        recs.strategy = self.strategy.clone();
        recs.params = self.model_params.clone();
        recs.tune_trials = self.tune_trials;
        if !self.no_background_training {
            recs.retrain_every = (self.retrain_minutes > 0)
                .then(|| std::time::Duration::from_secs(self.retrain_minutes * 60));
            recs.retrain_after_events = (self.retrain_events > 0).then_some(self.retrain_events);
        }
        recs
    }
}

/// An origin is `http://` or `https://`, a host and an optional port: nothing after.
fn parse_origin(value: &str) -> Result<String, String> {
    let rest = value
        .strip_prefix("https://")
        .or_else(|| value.strip_prefix("http://"))
        .ok_or("must start with http:// or https://")?;
    if rest.is_empty() || rest.contains(['/', '?', '#', '@', ' ']) {
        return Err("must be scheme://host[:port] with no path, e.g. https://shop.example".into());
    }
    Ok(value.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_flags() {
        let cli = Cli::parse_from(["curio"]);
        assert!(cli.command.is_none());
        assert_eq!(cli.config.addr.to_string(), "127.0.0.1:3000");
        assert!(
            !cli.config.cookies_secure(),
            "loopback gets non-Secure cookies"
        );

        let cli = Cli::parse_from(["curio", "serve", "--addr", "0.0.0.0:8080"]);
        assert!(matches!(cli.command, Some(Command::Serve)));
        assert!(
            cli.config.cookies_secure(),
            "a public address gets Secure cookies"
        );
    }

    #[test]
    fn public_origin_is_checked_and_decides_secure_cookies() {
        let cli = Cli::parse_from(["curio", "--public-origin", "https://Shop.example"]);
        assert_eq!(
            cli.config.public_origin.as_deref(),
            Some("https://shop.example")
        );
        assert!(
            cli.config.cookies_secure(),
            "https origin behind a proxy on loopback"
        );
        let err = Cli::try_parse_from(["curio", "--public-origin", "https://shop.example/x"])
            .unwrap_err();
        assert!(err.to_string().contains("--public-origin"), "{err}");
        assert!(Cli::try_parse_from(["curio", "--public-origin", "shop.example"]).is_err());
    }

    #[test]
    fn bad_address_is_a_clear_error() {
        let err = Cli::try_parse_from(["curio", "--addr", "nowhere"]).unwrap_err();
        assert!(err.to_string().contains("--addr"), "{err}");
    }
}
