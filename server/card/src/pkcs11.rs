//! The card's authentication key, used through the card's own PKCS#11 module (the card
//! software's, e.g. OpenSC's or DVV's), so that `check --server` can present the card in the
//! TLS handshake and the server answers the card holder, not an anonymous question. The tool
//! itself never sends VERIFY or a signing APDU: the PIN goes to the module, which knows the
//! card's PIN references and algorithms.
//!
//! The key is found as web browsers find it: the certificate object whose value is the card's
//! authentication certificate, then the private key with the same `CKA_ID`.

use std::{
    path::Path,
    sync::{Arc, Mutex},
};

use cryptoki::{
    context::{CInitializeArgs, CInitializeFlags, Pkcs11},
    error::{Error as Pkcs11Error, RvError},
    mechanism::{
        Mechanism, MechanismType,
        rsa::{PkcsMgfType, PkcsPssParams},
    },
    object::{Attribute, AttributeType, ObjectClass, ObjectHandle},
    session::{Session, UserType},
    types::AuthPin,
};
use rustls::{
    SignatureAlgorithm, SignatureScheme,
    sign::{Signer, SigningKey},
};
use x509_parser::{
    oid_registry::{
        OID_EC_P256, OID_KEY_TYPE_EC_PUBLIC_KEY, OID_NIST_EC_P384, OID_PKCS1_RSAENCRYPTION,
    },
    prelude::{FromDer, X509Certificate},
};

use crate::failure::Failure;

/// The signature the card makes, chosen from its certificate's key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum KeyKind {
    EcP256,
    EcP384,
    Rsa,
}

impl KeyKind {
    fn of(certificate: &[u8]) -> Result<Self, Failure> {
        let (_, cert) = X509Certificate::from_der(certificate)
            .map_err(|e| Failure::damaged(format!("certificate: {e}")))?;
        let algorithm = &cert.public_key().algorithm;
        if algorithm.algorithm == OID_PKCS1_RSAENCRYPTION {
            return Ok(Self::Rsa);
        }
        let curve = algorithm
            .parameters
            .as_ref()
            .and_then(|parameters| parameters.as_oid().ok());
        match (algorithm.algorithm == OID_KEY_TYPE_EC_PUBLIC_KEY, curve) {
            (true, Some(curve)) if curve == OID_EC_P256 => Ok(Self::EcP256),
            (true, Some(curve)) if curve == OID_NIST_EC_P384 => Ok(Self::EcP384),
            _ => Err(Failure::CardModule(format!(
                "the card's key type ({}) cannot sign a TLS handshake here",
                algorithm.algorithm
            ))),
        }
    }

    fn scheme(self) -> SignatureScheme {
        match self {
            Self::EcP256 => SignatureScheme::ECDSA_NISTP256_SHA256,
            Self::EcP384 => SignatureScheme::ECDSA_NISTP384_SHA384,
            Self::Rsa => SignatureScheme::RSA_PSS_SHA256,
        }
    }
}

/// The card's key, logged in, ready to sign the handshakes of this run.
#[derive(Clone, Debug)]
pub struct CardKey(Arc<LoggedIn>);

#[derive(Debug)]
struct LoggedIn {
    // The module's calls on one session must not overlap; rustls needs `Sync`.
    session: Mutex<Session>,
    key: ObjectHandle,
    kind: KeyKind,
}

impl CardKey {
    /// Loads `module`, finds the key of `certificate` on a token and logs in with `pin`.
    pub fn open(module: &Path, certificate: &[u8], pin: &str) -> Result<Self, Failure> {
        let kind = KeyKind::of(certificate)?;
        let failed = |doing: &str, e: Pkcs11Error| {
            Failure::CardModule(format!("{}: {doing}: {e}", module.display()))
        };
        let pkcs11 = Pkcs11::new(module).map_err(|e| failed("cannot load the module", e))?;
        pkcs11
            .initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK))
            .map_err(|e| failed("cannot initialise the module", e))?;
        let slots = pkcs11
            .get_slots_with_initialized_token()
            .map_err(|e| failed("cannot list the tokens", e))?;
        // A token that cannot be read (another card, a reader in trouble) is not this card's:
        // look on, and name the trouble only if no token has the card.
        let mut trouble = None;
        for slot in slots {
            let found = pkcs11.open_ro_session(slot).and_then(|session| {
                certificate_id(&session, certificate).map(|id| id.map(|id| (session, id)))
            });
            let (session, id) = match found {
                Ok(Some(found)) => found,
                Ok(None) => continue,
                Err(e) => {
                    trouble = Some(e);
                    continue;
                }
            };
            login(&session, pin)?;
            let keys = session
                .find_objects(&[
                    Attribute::Class(ObjectClass::PRIVATE_KEY),
                    Attribute::Id(id),
                ])
                .map_err(|e| failed("cannot find the key", e))?;
            let Some(key) = keys.first().copied() else {
                return Err(Failure::CardModule(format!(
                    "{}: the token has the card's certificate but no key with its CKA_ID",
                    module.display()
                )));
            };
            return Ok(Self(Arc::new(LoggedIn {
                session: Mutex::new(session),
                key,
                kind,
            })));
        }
        Err(Failure::CardModule(match trouble {
            Some(e) => format!(
                "{}: no token holds the card's authentication certificate (a token could not be read: {e})",
                module.display()
            ),
            None => format!(
                "{}: no token holds the card's authentication certificate",
                module.display()
            ),
        }))
    }
}

impl LoggedIn {
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, rustls::Error> {
        let (digest, mechanism) = match self.kind {
            KeyKind::EcP256 => (
                ring::digest::digest(&ring::digest::SHA256, message),
                Mechanism::Ecdsa,
            ),
            KeyKind::EcP384 => (
                ring::digest::digest(&ring::digest::SHA384, message),
                Mechanism::Ecdsa,
            ),
            KeyKind::Rsa => (
                ring::digest::digest(&ring::digest::SHA256, message),
                Mechanism::RsaPkcsPss(PkcsPssParams {
                    hash_alg: MechanismType::SHA256,
                    mgf: PkcsMgfType::MGF1_SHA256,
                    s_len: 32.into(),
                }),
            ),
        };
        let session = self
            .session
            .lock()
            .map_err(|_| rustls::Error::General("the card's session is poisoned".to_owned()))?;
        let signature = session
            .sign(&mechanism, self.key, digest.as_ref())
            .map_err(|e| rustls::Error::General(format!("the card did not sign: {e}")))?;
        match self.kind {
            // PKCS#11 gives r ‖ s; TLS wants the DER `ECDSA-Sig-Value`.
            KeyKind::EcP256 | KeyKind::EcP384 => ecdsa_der(&signature).ok_or_else(|| {
                rustls::Error::General("the card's ECDSA signature has an odd length".to_owned())
            }),
            KeyKind::Rsa => Ok(signature),
        }
    }
}

fn certificate_id(session: &Session, certificate: &[u8]) -> Result<Option<Vec<u8>>, Pkcs11Error> {
    let found = session.find_objects(&[
        Attribute::Class(ObjectClass::CERTIFICATE),
        Attribute::Value(certificate.to_vec()),
    ])?;
    let Some(object) = found.first().copied() else {
        return Ok(None);
    };
    let attributes = session.get_attributes(object, &[AttributeType::Id])?;
    Ok(attributes
        .into_iter()
        .find_map(|attribute| match attribute {
            Attribute::Id(id) => Some(id),
            _ => None,
        }))
}

fn login(session: &Session, pin: &str) -> Result<(), Failure> {
    match session.login(UserType::User, Some(&AuthPin::from(pin.to_owned()))) {
        Ok(()) | Err(Pkcs11Error::Pkcs11(RvError::UserAlreadyLoggedIn, _)) => Ok(()),
        Err(Pkcs11Error::Pkcs11(RvError::PinIncorrect, _)) => {
            Err(Failure::Pin("the PIN is wrong".to_owned()))
        }
        Err(Pkcs11Error::Pkcs11(RvError::PinLocked, _)) => {
            Err(Failure::Pin("the PIN is locked".to_owned()))
        }
        Err(Pkcs11Error::Pkcs11(RvError::PinLenRange | RvError::PinInvalid, _)) => Err(
            Failure::Pin("the PIN has a wrong length or characters".to_owned()),
        ),
        Err(e) => Err(Failure::CardModule(format!("cannot log in: {e}"))),
    }
}

/// `r ‖ s` (two big-endian integers of equal length) as DER `SEQUENCE { INTEGER, INTEGER }`.
fn ecdsa_der(raw: &[u8]) -> Option<Vec<u8>> {
    if raw.is_empty() || !raw.len().is_multiple_of(2) || raw.len() > 132 {
        return None;
    }
    let (r, s) = raw.split_at(raw.len() / 2);
    let mut body = Vec::with_capacity(raw.len() + 6);
    for integer in [r, s] {
        let trimmed = match integer.iter().position(|byte| *byte != 0) {
            Some(first) => integer.get(first..)?,
            None => &[0][..],
        };
        // A leading bit set would read as negative: prefix a zero byte.
        let pad = trimmed.first().is_some_and(|byte| byte & 0x80 != 0);
        body.push(0x02);
        body.extend(der_length(trimmed.len() + usize::from(pad)));
        if pad {
            body.push(0);
        }
        body.extend_from_slice(trimmed);
    }
    let mut der = vec![0x30];
    der.extend(der_length(body.len()));
    der.extend(body);
    Some(der)
}

/// A DER length; `ecdsa_der` keeps every length under 256.
fn der_length(length: usize) -> Vec<u8> {
    match u8::try_from(length) {
        Ok(short) if short < 0x80 => vec![short],
        Ok(long) => vec![0x81, long],
        Err(_) => vec![0x82, 0xFF, 0xFF],
    }
}

impl SigningKey for CardKey {
    fn choose_scheme(&self, offered: &[SignatureScheme]) -> Option<Box<dyn Signer>> {
        let scheme = self.0.kind.scheme();
        offered.contains(&scheme).then(|| {
            Box::new(CardSigner {
                key: self.0.clone(),
                scheme,
            }) as Box<dyn Signer>
        })
    }

    fn algorithm(&self) -> SignatureAlgorithm {
        match self.0.kind {
            KeyKind::EcP256 | KeyKind::EcP384 => SignatureAlgorithm::ECDSA,
            KeyKind::Rsa => SignatureAlgorithm::RSA,
        }
    }
}

#[derive(Debug)]
struct CardSigner {
    key: Arc<LoggedIn>,
    scheme: SignatureScheme,
}

impl Signer for CardSigner {
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, rustls::Error> {
        self.key.sign(message)
    }

    fn scheme(&self) -> SignatureScheme {
        self.scheme
    }
}

#[cfg(test)]
mod tests {
    use ring::{
        rand::SystemRandom,
        signature::{
            ECDSA_P384_SHA384_ASN1, ECDSA_P384_SHA384_FIXED_SIGNING, EcdsaKeyPair, KeyPair,
            UnparsedPublicKey,
        },
    };

    use super::ecdsa_der;

    #[test]
    fn a_fixed_ecdsa_signature_becomes_der_that_verifies() {
        let rng = SystemRandom::new();
        let pkcs8 =
            EcdsaKeyPair::generate_pkcs8(&ECDSA_P384_SHA384_FIXED_SIGNING, &rng).expect("key");
        let key = EcdsaKeyPair::from_pkcs8(&ECDSA_P384_SHA384_FIXED_SIGNING, pkcs8.as_ref(), &rng)
            .expect("key");
        let public = UnparsedPublicKey::new(&ECDSA_P384_SHA384_ASN1, key.public_key().as_ref());
        // Enough signatures that some r or s start with a set bit or a zero byte.
        for n in 0..64u8 {
            let message = [n; 32];
            let fixed = key.sign(&rng, &message).expect("sign");
            let der = ecdsa_der(fixed.as_ref()).expect("der");
            public.verify(&message, &der).expect("verifies");
        }
    }

    #[test]
    fn odd_or_empty_signatures_are_refused() {
        assert_eq!(ecdsa_der(&[]), None);
        assert_eq!(ecdsa_der(&[1, 2, 3]), None);
        assert_eq!(
            ecdsa_der(&[0, 0x80]),
            Some(vec![0x30, 0x07, 0x02, 0x01, 0x00, 0x02, 0x02, 0x00, 0x80])
        );
    }
}
