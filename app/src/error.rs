//! The one error type the UI and the server functions share.
//!
//! Every failure a shopper can see is one of these variants, each with a clear message.
//! Internal failures are logged on the server (see `server::error`) and reach the browser
//! only as [`AppError::Internal`], which says nothing about the cause.

use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

/// A failure of a server function, as the shopper sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    /// A form field is missing or wrong; `field` names it.
    #[error("{message}")]
    Invalid {
        /// The form field at fault (`email`, `password`, ...).
        field: String,
        /// What is wrong, in words for the shopper.
        message: String,
    },
    /// Registration with an email that already has an account.
    #[error("An account with this email already exists. Log in, or use another email.")]
    EmailTaken,
    /// Log-in failed. Deliberately the same whether or not the account exists.
    #[error("Email or password is incorrect.")]
    BadCredentials,
    /// Too many failed log-ins for this account or from this address.
    #[error("Too many failed attempts. Please wait {retry_after_secs} seconds and try again.")]
    Throttled {
        /// Seconds until the next attempt is allowed.
        retry_after_secs: u64,
    },
    /// The action needs a logged-in shopper.
    #[error("Please log in first.")]
    Unauthenticated,
    /// The shopper is logged in but their account may not do this (the insights need
    /// the admin role).
    #[error("This page is for the shop's admins. Your account does not have that role.")]
    Forbidden,
    /// The thing asked for does not exist (a product, a category).
    #[error("We could not find {0}.")]
    NotFound(String),
    /// Something failed on the server; the details are in the server log only.
    #[error("Something went wrong on our side. Please try again in a moment.")]
    Internal,
    /// The request did not reach the server function or its answer could not be read.
    #[error("The request failed: {0}")]
    Request(String),
}

impl AppError {
    /// A validation failure of one form field.
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        Self::Invalid {
            field: field.to_string(),
            message: message.into(),
        }
    }

    /// The HTTP status a server function answers with for this error.
    pub fn status_code(&self) -> u16 {
        match self {
            Self::Invalid { .. } => 422,
            Self::EmailTaken => 409,
            Self::BadCredentials | Self::Unauthenticated => 401,
            Self::Forbidden => 403,
            Self::NotFound(_) => 404,
            Self::Throttled { .. } => 429,
            Self::Internal => 500,
            Self::Request(_) => 400,
        }
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            // Server-side failures carry internal detail: keep it out of the response.
            ServerFnErrorErr::ServerError(_) | ServerFnErrorErr::Registration(_) => Self::Internal,
            other => Self::Request(other.to_string()),
        }
    }
}
