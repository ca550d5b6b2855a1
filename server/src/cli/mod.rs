//! The `curio` subcommands other than `serve`: offline evaluation, training, import and
//! export, and administration. Nothing outside this folder imports it.

pub mod admin;
pub mod eval;
pub mod import;
pub mod train;
