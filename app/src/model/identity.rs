//! Who the signed-in person is, as read from the verified client certificate: the identity
//! layer's own type, shown as it is.

pub use identity::CertificateIdentity;
