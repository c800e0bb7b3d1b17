//! HTTPS with client certificates: the rustls configuration built from files, our own accept
//! loop that hands the verified chain to every request, and reading identities from
//! certificates.

mod accept;
pub mod card_checks;
pub mod crl_status;
pub mod files;
mod first_request;
pub mod forwarded;
pub mod identity;
mod refusal;
mod reload;
mod server_config;

pub use accept::{AcceptLoop, ConnectionHandler};
pub use files::TlsFileError;
pub use refusal::HandshakeRefusal;
pub use reload::{CurrentVerifier, RevocationHealth, TlsHandles, TlsReloader};
pub use server_config::{
    ClientVerifierBuild, CrlNumbers, TlsBuild, TlsConfigError, build_client_verifier,
    build_server_config, crypto_provider,
};
