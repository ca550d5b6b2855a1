//! `curio admin`: who may see the merchant's insights. The role lives in the database
//! and is checked on every insights request, so a revoke takes effect at once.

use std::io::{BufRead, IsTerminal};

use crate::error::Error;
use crate::services::accounts::{hashing::PasswordHasher, policy};
use crate::store::{CreateAccountError, Store, ROLE_ADMIN};

/// `curio admin ...`
#[derive(Debug, clap::Args)]
pub struct AdminArgs {
    /// What to do.
    #[command(subcommand)]
    pub action: AdminAction,
}

/// The admin actions.
#[derive(Debug, clap::Subcommand)]
pub enum AdminAction {
    /// Create an admin account. Its password is asked for on a terminal, or read as one
    /// line from standard input; never from the command line (it would show in `ps` and
    /// shell history). An account that exists already is promoted only with
    /// `--promote-existing`: anyone can register an email, and emails are not verified.
    Create {
        /// The account's email.
        #[arg(long)]
        email: String,
        /// The name shown in the header (new accounts only).
        #[arg(long, default_value = "Merchant")]
        name: String,
        /// Give the role to the account that already has this email.
        #[arg(long)]
        promote_existing: bool,
    },
    /// Take the admin role from an account; it stays a shopper's account.
    Revoke {
        /// The account's email.
        #[arg(long)]
        email: String,
    },
    /// List the admin accounts.
    List,
}

/// Runs the action; returns what to print.
pub async fn run(store: &Store, args: &AdminArgs) -> Result<String, Error> {
    let bad = |e: app::error::AppError| Error::Command(e.to_string());
    match &args.action {
        AdminAction::Create {
            email,
            name,
            promote_existing,
        } => {
            let email = policy::normalize_email(email).map_err(bad)?;
            if let Some(account) = store.account_by_email(&email).await? {
                if account.is_admin() {
                    return Ok(format!("{email} is already an admin"));
                }
                let registered = time::OffsetDateTime::from_unix_timestamp(account.created_at)
                    .map(|t| t.date().to_string())
                    .unwrap_or_default();
                if !promote_existing {
                    return Err(Error::Command(format!(
                        "{email} is a shopper's account registered on {registered}; emails are \
                         not verified, so make sure it is yours, then run this again with \
                         --promote-existing"
                    )));
                }
                store.set_role(account.account_id, ROLE_ADMIN).await?;
                tracing::info!(account_id = account.account_id, "admin role granted");
                return Ok(format!(
                    "{email} is now an admin (existing account, registered on {registered})"
                ));
            }
            let name = policy::normalize_display_name(name).map_err(bad)?;
            let password = read_password(&email)?;
            policy::check_new_password(&password, &email).map_err(bad)?;
            let hash = PasswordHasher::new(1).await?.hash(password).await?;
            let now = crate::clock::unix_secs();
            let row = match store
                .create_account_with_role(&email, &name, &hash, now, ROLE_ADMIN)
                .await
            {
                Ok(row) => row,
                // Registered between the lookup and the insert: promote that account.
                Err(CreateAccountError::EmailTaken) => {
                    return Err(Error::Command(format!(
                    "{email} was registered meanwhile; run this command again to make it an admin"
                )))
                }
                Err(CreateAccountError::Other(e)) => return Err(e),
            };
            tracing::info!(account_id = row.account_id, "admin account created");
            Ok(format!("created admin account {email}"))
        }
        AdminAction::Revoke { email } => {
            let email = policy::normalize_email(email).map_err(bad)?;
            let account = store
                .account_by_email(&email)
                .await?
                .ok_or_else(|| Error::Command(format!("no account has the email {email}")))?;
            store.set_role(account.account_id, "shopper").await?;
            tracing::info!(account_id = account.account_id, "admin role revoked");
            Ok(format!("{email} is no longer an admin"))
        }
        AdminAction::List => {
            let admins = store.admins().await?;
            if admins.is_empty() {
                return Ok("no admin accounts".into());
            }
            Ok(admins
                .into_iter()
                .map(|(id, email)| format!("{id}\t{email}"))
                .collect::<Vec<_>>()
                .join("\n"))
        }
    }
}

/// The new account's password: asked twice on a terminal, else the first line of stdin.
fn read_password(email: &str) -> Result<String, Error> {
    if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password(format!("Password for {email}: "))
            .map_err(|e| Error::Command(format!("cannot read the password: {e}")))?;
        let again = rpassword::prompt_password("Same password again: ")
            .map_err(|e| Error::Command(format!("cannot read the password: {e}")))?;
        if first != again {
            return Err(Error::Command("the two passwords differ".into()));
        }
        return Ok(first);
    }
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| Error::Command(format!("cannot read the password from stdin: {e}")))?;
    let password = line.trim_end_matches(['\n', '\r']).to_string();
    if password.is_empty() {
        return Err(Error::Command(
            "no password on standard input: pipe one line, or run on a terminal".into(),
        ));
    }
    Ok(password)
}
