//! PROXY protocol v2 from TCP-mode load balancers (HAProxy `send-proxy-v2`, off unless
//! `proxy.protocol_from` lists addresses). The balancer passes the card's TLS handshake through
//! unchanged and says who the client is in a binary header before it; that address is then the
//! connection's for everything: the accept-time caps, the logs, the audit.
//!
//! - From a listed address the header must come, whole and well formed, within the handshake
//!   deadline; anything else closes the connection with a log line. `LOCAL` (the balancer's own
//!   health checks) keeps the balancer's address.
//! - From anyone else a connection that begins like a PROXY header (v2's signature, or v1's
//!   `PROXY`) is closed with a log line: a client must not choose its own address.
//!
//! Version 1 (text) is not accepted: HAProxy, the balancer this service is deployed with, speaks
//! version 2, and one binary format is less to parse.

use std::net::{IpAddr, SocketAddr};

use ppp::v2::{Addresses, Command, Header, ParseError, Protocol};
use tokio::{
    io::{AsyncRead, AsyncReadExt},
    net::TcpStream,
};

/// The 12 bytes every version 2 header starts with.
pub const SIGNATURE: [u8; 12] = *b"\r\n\r\n\0\r\nQUIT\n";
/// Signature, version and command, family and protocol, and the length of what follows.
const FIXED_LENGTH: usize = 16;
/// Addresses and TLVs read at most. HAProxy sends 12 (IPv4) or 36 (IPv6) bytes of addresses and
/// in TCP mode a few short TLVs; a balancer announcing kilobytes is misconfigured or not ours.
pub const MAX_PAYLOAD: usize = 1024;

/// The load balancers whose connections begin with a header.
#[derive(Clone, Debug, Default)]
pub struct ProxyProtocol {
    from: Vec<IpAddr>,
}

impl ProxyProtocol {
    pub fn new(from: Vec<IpAddr>) -> Self {
        Self {
            from: from.into_iter().map(|ip| ip.to_canonical()).collect(),
        }
    }

    /// Whether a connection from `peer` must begin with a header.
    pub fn expected_from(&self, peer: IpAddr) -> bool {
        self.from.contains(&peer.to_canonical())
    }
}

/// Why a connection was closed for its PROXY header; stable codes for the metric's label and
/// the log.
#[derive(Debug, thiserror::Error)]
pub enum ProxyHeaderError {
    #[error("a PROXY header from an address not listed in proxy.protocol_from")]
    NotFromBalancer,
    #[error("no PROXY header within the handshake deadline")]
    TimedOut,
    #[error("the connection ended before the whole PROXY header arrived: {0}")]
    Truncated(std::io::Error),
    #[error("the connection does not begin with a PROXY protocol v2 signature")]
    NoSignature,
    #[error("the PROXY header announces {0} bytes of addresses and TLVs, more than {MAX_PAYLOAD}")]
    TooLong(usize),
    #[error("malformed PROXY header: {0}")]
    Malformed(ParseError),
    #[error("the PROXY header's client is not a TCP connection over IPv4 or IPv6")]
    Unsupported,
}

impl ProxyHeaderError {
    pub fn code(&self) -> &'static str {
        match self {
            Self::NotFromBalancer => "not_from_balancer",
            Self::TimedOut => "timed_out",
            Self::Truncated(_) => "truncated",
            Self::NoSignature => "no_signature",
            Self::TooLong(_) => "too_long",
            Self::Malformed(_) => "malformed",
            Self::Unsupported => "unsupported",
        }
    }
}

/// Reads a listed balancer's header and returns the client's address (for `LOCAL`, or a
/// `PROXY` with unspecified addresses, the balancer's own). Reads exactly the header's bytes, so
/// the TLS handshake that follows finds the stream where the client left it.
pub async fn read_client_address<S: AsyncRead + Unpin>(
    stream: &mut S,
    balancer: SocketAddr,
) -> Result<SocketAddr, ProxyHeaderError> {
    let mut header = vec![0; FIXED_LENGTH];
    stream
        .read_exact(&mut header)
        .await
        .map_err(ProxyHeaderError::Truncated)?;
    if header[..SIGNATURE.len()] != SIGNATURE {
        return Err(ProxyHeaderError::NoSignature);
    }
    let length = usize::from(u16::from_be_bytes([header[14], header[15]]));
    if length > MAX_PAYLOAD {
        return Err(ProxyHeaderError::TooLong(length));
    }
    header.resize(FIXED_LENGTH + length, 0);
    stream
        .read_exact(&mut header[FIXED_LENGTH..])
        .await
        .map_err(ProxyHeaderError::Truncated)?;
    let parsed = Header::try_from(header.as_slice()).map_err(ProxyHeaderError::Malformed)?;
    client_address(&parsed, balancer)
}

fn client_address(
    header: &Header<'_>,
    balancer: SocketAddr,
) -> Result<SocketAddr, ProxyHeaderError> {
    if header.command == Command::Local {
        return Ok(balancer);
    }
    match (header.protocol, header.addresses) {
        // The protocol says a receiver must then use the connection's own addresses.
        (_, Addresses::Unspecified) => Ok(balancer),
        (Protocol::Stream, Addresses::IPv4(v4)) => Ok(SocketAddr::new(
            IpAddr::V4(v4.source_address),
            v4.source_port,
        )),
        (Protocol::Stream, Addresses::IPv6(v6)) => Ok(SocketAddr::new(
            IpAddr::V6(v6.source_address),
            v6.source_port,
        )),
        _ => Err(ProxyHeaderError::Unsupported),
    }
}

/// Whether a connection from an unlisted address begins like a PROXY header. Waits for its first
/// bytes (the caller bounds the wait) and looks at what has arrived without consuming it; a
/// connection closed before sending anything is not one.
pub async fn begins_like_header(tcp: &TcpStream) -> bool {
    let mut first = [0u8; SIGNATURE.len()];
    match tcp.peek(&mut first).await {
        Ok(n) => looks_like_header(&first[..n]),
        Err(_) => false,
    }
}

/// Whether `bytes`, a connection's first, are (the start of) v2's signature or v1's `PROXY `.
/// A TLS record starts with 0x16, so a ClientHello is never one; neither is a plain-text
/// `POST` sent to the HTTPS port by mistake.
fn looks_like_header(bytes: &[u8]) -> bool {
    let starts = |prefix: &[u8]| {
        let n = bytes.len().min(prefix.len());
        n > 0 && bytes[..n] == prefix[..n]
    };
    starts(&SIGNATURE) || starts(b"PROXY ")
}

#[cfg(test)]
mod tests {
    use ppp::v2::Builder;

    use super::*;

    const BALANCER: &str = "10.0.0.5:40000";

    fn proxy(client: &str) -> Vec<u8> {
        let client = client.parse::<SocketAddr>().expect("client");
        // Both addresses of one family, as a balancer's are (mixed, they would be unspecified).
        let server = if client.is_ipv4() {
            "10.0.0.1:443"
        } else {
            "[2001:db8::1]:443"
        };
        let addresses = (client, server.parse::<SocketAddr>().expect("server"));
        Builder::with_addresses(0x21, Protocol::Stream, addresses)
            .build()
            .expect("header")
    }

    async fn read(bytes: &[u8]) -> Result<SocketAddr, ProxyHeaderError> {
        let mut stream = bytes;
        read_client_address(&mut stream, BALANCER.parse().expect("balancer")).await
    }

    #[tokio::test]
    async fn the_client_comes_from_the_header_and_the_tls_bytes_stay_unread() {
        for client in ["203.0.113.7:5555", "[2001:db8::7]:5555"] {
            let mut bytes = proxy(client);
            bytes.extend_from_slice(&[0x16, 0x03, 0x01]);
            let mut stream = bytes.as_slice();
            let address = read_client_address(&mut stream, BALANCER.parse().expect("balancer"))
                .await
                .expect("header");
            assert_eq!(address, client.parse().expect("client"));
            assert_eq!(
                stream,
                [0x16, 0x03, 0x01],
                "the ClientHello is left for TLS"
            );
        }
    }

    #[tokio::test]
    async fn a_local_header_keeps_the_balancers_address() {
        let local = Builder::new(0x20, 0x00).build().expect("local");
        assert_eq!(
            read(&local).await.expect("local"),
            BALANCER.parse().expect("b")
        );
    }

    #[tokio::test]
    async fn bad_headers_are_refused_with_their_reason() {
        let whole = proxy("203.0.113.7:5555");
        let mut bad_version = whole.clone();
        bad_version[12] = 0x11;
        let mut too_long = whole.clone();
        too_long[14..16].copy_from_slice(&2000u16.to_be_bytes());
        let datagram = Builder::with_addresses(
            0x21,
            Protocol::Datagram,
            (
                "203.0.113.7:5555".parse::<SocketAddr>().expect("client"),
                "10.0.0.1:443".parse::<SocketAddr>().expect("server"),
            ),
        )
        .build()
        .expect("header");
        let cases: [(&[u8], &str); 6] = [
            (&whole[..10], "truncated"),
            (&whole[..20], "truncated"),
            (
                b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\x00\x00\x00\x00\x00",
                "no_signature",
            ),
            (&bad_version, "malformed"),
            (&too_long, "too_long"),
            (&datagram, "unsupported"),
        ];
        for (bytes, code) in cases {
            let error = read(bytes).await.expect_err(code);
            assert_eq!(error.code(), code, "{error}");
        }
    }

    #[test]
    fn proxy_headers_are_told_from_tls_and_plain_http() {
        for header in [&SIGNATURE[..], b"\r\n\r", b"PROXY TCP4 203.0.113.7", b"PRO"] {
            assert!(looks_like_header(header), "{header:?}");
        }
        for other in [
            &[0x16, 0x03, 0x01][..],
            b"POST / HTTP/1.1",
            b"PUT",
            b"\r\nX",
            b"",
        ] {
            assert!(!looks_like_header(other), "{other:?}");
        }
    }

    #[test]
    fn listed_balancers_match_as_ipv4_mapped_addresses_too() {
        let protocol = ProxyProtocol::new(vec!["10.0.0.5".parse().expect("ip")]);
        assert!(protocol.expected_from("10.0.0.5".parse().expect("ip")));
        assert!(protocol.expected_from("::ffff:10.0.0.5".parse().expect("ip")));
        assert!(!protocol.expected_from("10.0.0.6".parse().expect("ip")));
    }
}
