//! The `curio` binary: parse configuration, set up logs, run the command.

use clap::Parser;
use server::config::{Cli, Command};
use server::store::db::Database;
use server::store::Store;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_new(&cli.config.log)
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();

    let result = match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => server::serve(&cli.config).await,
        Command::Eval(args) => {
            server::cli::eval::run_with(&args, &mut server::cli::train::epoch_reporter())
                .map(|_| ())
                .map_err(server::error::Error::Command)
        }
        Command::Train(args) if args.publish => match open_store(&cli.config).await {
            Ok(store) => server::recs::RecService::publish(store, cli.config.recs())
                .await
                .map(|outcome| println!("{outcome:?}")),
            Err(e) => Err(e),
        },
        Command::Train(args) => server::cli::train::run(&args)
            .map(|_| ())
            .map_err(server::error::Error::Command),
        Command::Import(args) => match open_store(&cli.config).await {
            Ok(store) => server::cli::import::run_import(&store, &args)
                .await
                .map(|report| println!("{report}")),
            Err(e) => Err(e),
        },
        Command::Export(args) => match open_store(&cli.config).await {
            Ok(store) => server::cli::import::run_export(&store, &args)
                .await
                .map(|lines| tracing::info!(lines, "export finished")),
            Err(e) => Err(e),
        },
        Command::Admin(args) => match open_store(&cli.config).await {
            Ok(store) => server::cli::admin::run(&store, &args)
                .await
                .map(|report| println!("{report}")),
            Err(e) => Err(e),
        },
        Command::Migrate => {
            Database::connect(cli.config.database_url.as_deref(), &cli.config.data_dir)
                .await
                .map(|db| tracing::info!(database = db.kind(), "migrations applied"))
        }
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("curio: {error}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// The database of `config`, migrated, as a store.
async fn open_store(config: &server::config::Config) -> Result<Store, server::error::Error> {
    let db = Database::connect(config.database_url.as_deref(), &config.data_dir).await?;
    Ok(Store::new(db))
}
