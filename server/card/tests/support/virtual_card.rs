//! A virtual FINEID card for pcscd's vpcd reader driver: a TCP client of the reader's port
//! (connecting inserts the card, closing removes it) that answers vpcd's framing — a two-byte
//! big-endian length, then a one-byte control message (0 power off, 1 power on, 2 reset,
//! 4 "send the ATR") or a command APDU.
//!
//! The card holds the PKCS#15 application, TokenInfo (EF 5032) with the card's serial and the
//! authentication certificate (EF 4331); its modes make the failures the tool must explain.

use std::{
    io::{Read, Write},
    net::{Shutdown, TcpStream},
    thread::JoinHandle,
    time::{Duration, Instant},
};

/// The FinEID 2022 ATR (smartcard-testing.md §4).
const ATR: [u8; 20] = [
    0x3B, 0x7F, 0x96, 0x00, 0x00, 0x80, 0x31, 0xB8, 0x65, 0xB0, 0x85, 0x05, 0x00, 0x11, 0x12, 0x24,
    0x60, 0x82, 0x90, 0x00,
];

const PKCS15_AID: [u8; 12] = [
    0xA0, 0x00, 0x00, 0x00, 0x63, 0x50, 0x4B, 0x43, 0x53, 0x2D, 0x31, 0x35,
];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// A good card.
    Fineid,
    /// Another kind of card: no PKCS#15 application.
    NotFineid,
    /// The application without the authentication certificate.
    NoCertificate,
    /// Sixteen bytes in the middle of the certificate overwritten.
    Garbled,
    /// The certificate file holds only the first half of the certificate.
    Truncated,
    /// The card is pulled out after this many APDUs.
    RemovedAfter(usize),
}

pub struct VirtualCard {
    stream: TcpStream,
    thread: Option<JoinHandle<()>>,
}

impl VirtualCard {
    /// Inserts the card into the vpcd reader listening on `port`.
    pub fn insert(port: u16, certificate: &[u8], serial: &[u8], mode: Mode) -> Self {
        let deadline = Instant::now() + Duration::from_secs(15);
        let stream = loop {
            match TcpStream::connect(("127.0.0.1", port)) {
                Ok(stream) => break stream,
                Err(e) if Instant::now() < deadline => {
                    let _ = e;
                    std::thread::sleep(Duration::from_millis(100));
                }
                Err(e) => panic!("vpcd on port {port} does not answer: {e}"),
            }
        };
        let files = Files::new(certificate, serial, mode);
        let card_stream = stream.try_clone().expect("clone the stream");
        let (powered, on) = std::sync::mpsc::channel();
        let thread = std::thread::spawn(move || serve(card_stream, files, mode, powered));
        // pcscd asks for the ATR when it notices the card; only then is the card "in".
        on.recv_timeout(Duration::from_secs(15))
            .expect("pcscd did not notice the card");
        std::thread::sleep(Duration::from_millis(300));
        Self {
            stream,
            thread: Some(thread),
        }
    }
}

impl Drop for VirtualCard {
    /// Removes the card.
    fn drop(&mut self) {
        let _ = self.stream.shutdown(Shutdown::Both);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

struct Files {
    token_info: Vec<u8>,
    certificate: Option<Vec<u8>>,
}

impl Files {
    fn new(certificate: &[u8], serial: &[u8], mode: Mode) -> Self {
        let mut certificate = certificate.to_vec();
        match mode {
            Mode::Garbled => {
                let middle = certificate.len() / 2;
                for byte in &mut certificate[middle..middle + 16] {
                    *byte = 0xA5;
                }
                // Also the header of the inner structure, so that parsing fails for sure.
                certificate[4] = 0xFF;
            }
            Mode::Truncated => certificate.truncate(certificate.len() / 2),
            _ => {}
        }
        let mut inner = vec![0x02, 0x01, 0x00, 0x04, serial.len() as u8];
        inner.extend_from_slice(serial);
        let mut token_info = vec![0x30, inner.len() as u8];
        token_info.extend(inner);
        Self {
            token_info,
            certificate: (mode != Mode::NoCertificate).then_some(certificate),
        }
    }
}

fn serve(mut stream: TcpStream, files: Files, mode: Mode, powered: std::sync::mpsc::Sender<()>) {
    let mut application = false;
    let mut selected: Option<Vec<u8>> = None;
    let mut apdus = 0;
    loop {
        let mut length = [0; 2];
        if stream.read_exact(&mut length).is_err() {
            return;
        }
        let mut message = vec![0; usize::from(u16::from_be_bytes(length))];
        if stream.read_exact(&mut message).is_err() {
            return;
        }
        let answer = match message.as_slice() {
            [4] => {
                let _ = powered.send(());
                ATR.to_vec()
            }
            [_] => continue,
            apdu => {
                apdus += 1;
                if let Mode::RemovedAfter(limit) = mode
                    && apdus > limit
                {
                    let _ = stream.shutdown(Shutdown::Both);
                    return;
                }
                respond(apdu, &files, mode, &mut application, &mut selected)
            }
        };
        let mut frame = u16::try_from(answer.len())
            .expect("short answer")
            .to_be_bytes()
            .to_vec();
        frame.extend(answer);
        if stream.write_all(&frame).is_err() {
            return;
        }
    }
}

fn respond(
    apdu: &[u8],
    files: &Files,
    mode: Mode,
    application: &mut bool,
    selected: &mut Option<Vec<u8>>,
) -> Vec<u8> {
    const OK: [u8; 2] = [0x90, 0x00];
    const NOT_FOUND: [u8; 2] = [0x6A, 0x82];
    match apdu {
        [0x00, 0xA4, 0x04, _, length, aid @ ..] if aid.len() >= usize::from(*length) => {
            *application = mode != Mode::NotFineid && aid[..usize::from(*length)] == PKCS15_AID;
            *selected = None;
            if *application { OK } else { NOT_FOUND }.to_vec()
        }
        [0x00, 0xA4, 0x08, _, 0x02, high, low, ..] if *application => {
            *selected = match [*high, *low] {
                [0x50, 0x32] => Some(files.token_info.clone()),
                [0x43, 0x31] => files.certificate.clone(),
                _ => None,
            };
            if selected.is_some() { OK } else { NOT_FOUND }.to_vec()
        }
        [0x00, 0xA4, ..] => NOT_FOUND.to_vec(),
        [0x00, 0xB0, high, low, le] => match selected {
            None => vec![0x69, 0x86],
            Some(file) => {
                let offset = usize::from(u16::from_be_bytes([*high, *low]));
                let wanted = if *le == 0 { 256 } else { usize::from(*le) };
                let end = (offset + wanted).min(file.len());
                let mut data = file.get(offset..end).unwrap_or_default().to_vec();
                let status = if data.len() < wanted {
                    [0x62, 0x82]
                } else {
                    OK
                };
                data.extend_from_slice(&status);
                data
            }
        },
        [0x00, 0x20, ..] => panic!("the tool must never send VERIFY (a PIN)"),
        _ => vec![0x6D, 0x00],
    }
}
