//! The FINEID card's files, read with ISO 7816-4 APDUs (certificates.md §4): the PKCS#15
//! application, the authentication certificate in EF 4331 and the card number in TokenInfo
//! (EF 5032). Only SELECT and READ BINARY are ever sent: never VERIFY, so never a PIN.
//!
//! The APDU logic sits behind [`Transport`] so that it is the same for a real reader and for
//! the tests' virtual card.

// The parsers read untrusted bytes: a slice or index out of range must be an error, not a panic.
#![cfg_attr(not(test), deny(clippy::indexing_slicing))]

use x509_parser::der_parser::asn1_rs::{Any, FromDer, Tag};

use crate::failure::Failure;

/// `A0 00 00 00 63` + "PKCS-15".
pub const PKCS15_AID: [u8; 12] = [
    0xA0, 0x00, 0x00, 0x00, 0x63, 0x50, 0x4B, 0x43, 0x53, 0x2D, 0x31, 0x35,
];
pub const AUTH_CERTIFICATE: [u8; 2] = [0x43, 0x31];
pub const TOKEN_INFO: [u8; 2] = [0x50, 0x32];

/// FINEID cards answer at most 256 bytes a READ BINARY; a little less leaves room for cards
/// that count the status word in.
const CHUNK: usize = 0xE0;
/// Far above any card certificate (about 1.5 KB); a length field beyond it is damage, and the
/// tool must not read a card for minutes because of one.
const MAX_FILE: usize = 16 * 1024;

const SW_OK: u16 = 0x9000;
/// "End of file reached before reading Le bytes" (ISO 7816-4): the short data is the end.
const SW_END_OF_FILE: u16 = 0x6282;

/// One APDU exchange with the card in the reader.
pub trait Transport {
    /// The response: data followed by SW1 SW2.
    fn transmit(&mut self, apdu: &[u8]) -> Result<Vec<u8>, Failure>;
}

/// What the card holds that the tool needs.
#[derive(Clone, Debug)]
pub struct CardContents {
    /// The token serial number from TokenInfo, when the card has one.
    pub serial: Option<TokenSerial>,
    /// The authentication certificate, DER.
    pub certificate: Vec<u8>,
}

/// Reads the card number and the authentication certificate in one card session.
pub fn read_card(card: &mut dyn Transport) -> Result<CardContents, Failure> {
    let status = command(card, &select_application())?.1;
    if status != SW_OK {
        return Err(Failure::NotFineid { status });
    }
    let serial = match select_file(card, TOKEN_INFO)? {
        SW_OK => Some(TokenSerial::from_token_info(&read_der_file(card)?)?),
        _ => None,
    };
    match select_file(card, AUTH_CERTIFICATE)? {
        SW_OK => {}
        0x6A82 | 0x6A83 => return Err(Failure::NoCertificate),
        status => return Err(Failure::NotFineid { status }),
    }
    let certificate = read_der_file(card)?;
    Ok(CardContents {
        serial,
        certificate,
    })
}

fn select_application() -> Vec<u8> {
    let mut apdu = vec![0x00, 0xA4, 0x04, 0x0C, PKCS15_AID.len() as u8];
    apdu.extend_from_slice(&PKCS15_AID);
    apdu
}

/// SELECT by path from the MF (P1 = 08), no FCI wanted (P2 = 0C).
fn select_file(card: &mut dyn Transport, path: [u8; 2]) -> Result<u16, Failure> {
    Ok(command(card, &[0x00, 0xA4, 0x08, 0x0C, 0x02, path[0], path[1]])?.1)
}

fn read_binary(card: &mut dyn Transport, offset: usize, length: usize) -> Result<Vec<u8>, Failure> {
    let offset = u16::try_from(offset).map_err(|_| Failure::damaged("the file is too long"))?;
    let [high, low] = offset.to_be_bytes();
    let le = u8::try_from(length).map_err(|_| Failure::damaged("the file is too long"))?;
    match command(card, &[0x00, 0xB0, high, low, le])? {
        (data, SW_OK | SW_END_OF_FILE) => Ok(data),
        (_, status) => Err(Failure::damaged(format!(
            "READ BINARY at offset {offset} answered {status:04X}"
        ))),
    }
}

/// Reads the selected transparent file that holds one DER value: the header first, then
/// exactly the length it gives (reading past the end makes cards answer errors).
fn read_der_file(card: &mut dyn Transport) -> Result<Vec<u8>, Failure> {
    let mut bytes = read_binary(card, 0, 4)?;
    let total = der_length(&bytes)?;
    if total > MAX_FILE {
        return Err(Failure::damaged(format!(
            "the file claims {total} bytes, more than a card certificate can be"
        )));
    }
    bytes.truncate(total);
    while bytes.len() < total {
        let chunk = read_binary(card, bytes.len(), CHUNK.min(total - bytes.len()))?;
        if chunk.is_empty() {
            return Err(Failure::damaged(format!(
                "the file ends after {} of its {total} bytes",
                bytes.len()
            )));
        }
        bytes.extend_from_slice(&chunk);
    }
    bytes.truncate(total);
    Ok(bytes)
}

/// The whole length (header included) of the DER value `header` starts.
fn der_length(header: &[u8]) -> Result<usize, Failure> {
    let not_der = || Failure::damaged("the file does not start with a DER value");
    match header {
        [0x30, short, ..] if *short < 0x80 => Ok(2 + usize::from(*short)),
        [0x30, 0x81, length, ..] => Ok(3 + usize::from(*length)),
        [0x30, 0x82, high, low, ..] => Ok(4 + usize::from(u16::from_be_bytes([*high, *low]))),
        _ => Err(not_der()),
    }
}

fn command(card: &mut dyn Transport, apdu: &[u8]) -> Result<(Vec<u8>, u16), Failure> {
    let mut response = card.transmit(apdu)?;
    if response.len() < 2 {
        return Err(Failure::damaged(
            "the card gave an answer without a status word",
        ));
    }
    let status = response.split_off(response.len() - 2);
    let [high, low] = status[..] else {
        return Err(Failure::damaged("the card's status word is not two bytes"));
    };
    Ok((response, u16::from_be_bytes([high, low])))
}

/// The card's token serial number (EF.TokenInfo `serialNumber`), and the number printed on the
/// card, which is a window of it (certificates.md §1.4).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenSerial {
    /// As stored: text when the card stores printable ASCII, else hexadecimal digits.
    pub stored: String,
    /// The number printed on the card.
    pub printed: String,
}

impl TokenSerial {
    /// `TokenInfo ::= SEQUENCE { version INTEGER, serialNumber OCTET STRING, ... }`.
    pub fn from_token_info(der: &[u8]) -> Result<Self, Failure> {
        let unreadable = || Failure::damaged("TokenInfo (EF 5032) cannot be read");
        let (_, sequence) = Any::from_der(der).map_err(|_| unreadable())?;
        if sequence.tag() != Tag::Sequence {
            return Err(unreadable());
        }
        let (rest, version) = Any::from_der(sequence.data).map_err(|_| unreadable())?;
        let (_, serial) = Any::from_der(rest).map_err(|_| unreadable())?;
        if version.tag() != Tag::Integer || serial.tag() != Tag::OctetString {
            return Err(unreadable());
        }
        Ok(Self::from_bytes(serial.data))
    }

    /// Newer chips store printable ASCII and print its last nine characters; older ones store
    /// 20 BCD digits and print digits 10 to 18 (after the series and batch).
    pub fn from_bytes(bytes: &[u8]) -> Self {
        if !bytes.is_empty() && bytes.iter().all(|b| (0x21..0x7F).contains(b)) {
            let stored: String = bytes.iter().map(|b| char::from(*b)).collect();
            let skip = stored.len().saturating_sub(9);
            return Self {
                printed: stored[skip..].to_owned(),
                stored,
            };
        }
        let stored: String = bytes.iter().map(|b| format!("{b:02X}")).collect();
        let printed = if stored.len() == 20 && stored.chars().all(|c| c.is_ascii_digit()) {
            stored[9..18].to_owned()
        } else {
            stored.clone()
        };
        Self { stored, printed }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A card as a list of files; answers like the tests' virtual card.
    struct Files {
        selected_app: bool,
        current: Option<Vec<u8>>,
        files: Vec<([u8; 2], Vec<u8>)>,
    }

    impl Transport for Files {
        fn transmit(&mut self, apdu: &[u8]) -> Result<Vec<u8>, Failure> {
            Ok(match apdu {
                [0x00, 0xA4, 0x04, ..] => {
                    self.selected_app = apdu[5..] == PKCS15_AID;
                    if self.selected_app {
                        vec![0x90, 0x00]
                    } else {
                        vec![0x6A, 0x82]
                    }
                }
                [0x00, 0xA4, 0x08, 0x0C, 0x02, a, b] => {
                    self.current = self
                        .files
                        .iter()
                        .find(|(path, _)| path == &[*a, *b])
                        .map(|(_, data)| data.clone());
                    if self.current.is_some() {
                        vec![0x90, 0x00]
                    } else {
                        vec![0x6A, 0x82]
                    }
                }
                [0x00, 0xB0, high, low, le] => {
                    let data = self.current.clone().unwrap_or_default();
                    let offset = usize::from(u16::from_be_bytes([*high, *low]));
                    let end = (offset + usize::from(*le)).min(data.len());
                    let mut answer = data.get(offset..end).unwrap_or_default().to_vec();
                    let status = if end - offset.min(end) < usize::from(*le) {
                        [0x62, 0x82]
                    } else {
                        [0x90, 0x00]
                    };
                    answer.extend_from_slice(&status);
                    answer
                }
                _ => vec![0x6D, 0x00],
            })
        }
    }

    fn certificate(length: usize) -> Vec<u8> {
        let body = length - 4;
        let mut der = vec![0x30, 0x82, (body >> 8) as u8, body as u8];
        der.extend((0..body).map(|i| i as u8));
        der
    }

    fn token_info(serial: &[u8]) -> Vec<u8> {
        let mut inner = vec![0x02, 0x01, 0x00, 0x04, serial.len() as u8];
        inner.extend_from_slice(serial);
        let mut der = vec![0x30, inner.len() as u8];
        der.extend(inner);
        der
    }

    fn card(files: Vec<([u8; 2], Vec<u8>)>) -> Files {
        Files {
            selected_app: false,
            current: None,
            files,
        }
    }

    #[test]
    fn reads_a_certificate_longer_than_several_chunks_exactly() {
        let cert = certificate(1500);
        let mut card = card(vec![
            (TOKEN_INFO, token_info(b"FI0012345678")),
            (AUTH_CERTIFICATE, cert.clone()),
        ]);
        let contents = read_card(&mut card).expect("read");
        assert_eq!(contents.certificate, cert);
        let serial = contents.serial.expect("serial");
        assert_eq!(serial.stored, "FI0012345678");
        assert_eq!(serial.printed, "012345678");
    }

    #[test]
    fn a_file_that_ends_early_is_damage_not_a_hang() {
        let mut cert = certificate(1500);
        cert.truncate(700);
        let mut card = card(vec![(AUTH_CERTIFICATE, cert)]);
        let failure = read_card(&mut card).expect_err("truncated");
        assert!(
            matches!(failure, Failure::DamagedCertificate { .. }),
            "{failure:?}"
        );
    }

    #[test]
    fn without_the_certificate_file_the_card_has_no_certificate() {
        let mut card = card(vec![(TOKEN_INFO, token_info(b"123456789"))]);
        assert!(matches!(read_card(&mut card), Err(Failure::NoCertificate)));
    }

    #[test]
    fn printed_numbers_of_both_chip_generations() {
        let bcd =
            TokenSerial::from_bytes(&[0x12, 0x34, 0x56, 0x78, 0x90, 0x98, 0x76, 0x54, 0x32, 0x10]);
        assert_eq!(bcd.stored, "12345678909876543210");
        assert_eq!(bcd.printed, "098765432");
        let short = TokenSerial::from_bytes(b"ABC123");
        assert_eq!(short.printed, "ABC123");
    }

    #[test]
    fn a_huge_length_field_is_refused_before_reading() {
        assert!(der_length(&[0x30, 0x82, 0xFF, 0xFF]).is_ok_and(|n| n > MAX_FILE));
        let mut card = card(vec![(AUTH_CERTIFICATE, vec![0x30, 0x82, 0xFF, 0xFF, 0x00])]);
        assert!(matches!(
            read_card(&mut card),
            Err(Failure::DamagedCertificate { .. })
        ));
        assert!(der_length(&[0x04, 0x02]).is_err());
    }
}
