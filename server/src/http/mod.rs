//! HTTP plumbing around the app: request hygiene (origin checks, limits, headers),
//! server-side sessions, and the generated product pictures.

pub mod art;
pub mod caller;
pub mod hygiene;
pub mod sessions;
