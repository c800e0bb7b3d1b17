//! HTTPS with client certificates: the rustls configuration built from files, our own accept
//! loop that hands the verified chain (checked by `identity::verifier`) to every request, and
//! certificates forwarded by a trusted load balancer, and client addresses from a TCP one's
//! PROXY protocol header.

mod accept;
pub mod admission;
pub mod crl_status;
mod first_request;
pub mod forwarded;
pub mod presented;
pub mod proxy_header;
mod reload;
mod server_config;

pub use accept::{AcceptLoop, ConnectionHandler};
pub use reload::{CurrentVerifier, RevocationHealth, TlsHandles, TlsReloader};
pub use server_config::{TlsBuild, TlsConfigError, build_server_config};
