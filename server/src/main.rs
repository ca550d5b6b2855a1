//! The `curio` binary: parse configuration, set up logs, run the command.

use clap::Parser;
use server::config::{Cli, Command};
use server::db::Database;

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
        Command::Eval(args) => server::eval_cmd::run(&args)
            .map(|_| ())
            .map_err(server::error::Error::Command),
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
