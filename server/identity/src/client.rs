//! The client certificate chain a TLS handshake verified.

use std::sync::Arc;

use crate::CertificateIdentity;

/// The client certificate chain verified in this connection's TLS handshake, leaf first,
/// with the identity read from the leaf.
///
/// The server's accept loop (or its check of a certificate a trusted load balancer forwards)
/// attaches one to every request of the connection. Nothing else creates one from a request,
/// so holding one means the chain was verified.
#[derive(Clone, Debug)]
pub struct VerifiedClient {
    chain: Arc<[Vec<u8>]>,
    identity: Arc<CertificateIdentity>,
}

impl VerifiedClient {
    /// Only the TLS layer calls this, with the chain rustls verified.
    pub fn new(chain: Arc<[Vec<u8>]>, identity: CertificateIdentity) -> Self {
        Self {
            chain,
            identity: Arc::new(identity),
        }
    }

    /// The verified chain as DER, leaf certificate first.
    pub fn chain(&self) -> &[Vec<u8>] {
        &self.chain
    }

    pub fn identity(&self) -> &CertificateIdentity {
        &self.identity
    }
}
