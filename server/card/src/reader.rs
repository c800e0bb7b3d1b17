//! The local card readers through PC/SC (pcsc-lite's `pcscd` on Linux, WinSCard elsewhere).

// The parsers read untrusted bytes: a slice or index out of range must be an error, not a panic.
#![cfg_attr(not(test), deny(clippy::indexing_slicing))]

use std::{
    ffi::{CStr, CString},
    time::{Duration, Instant},
};

use pcsc::{Card, Context, Error as PcscError, Protocols, ReaderState, Scope, ShareMode, State};

use crate::{failure::Failure, fineid::Transport};

/// A reader and whether a card is in it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReaderStatus {
    pub name: String,
    pub card_present: bool,
}

pub struct Readers {
    context: Context,
}

impl Readers {
    pub fn connect() -> Result<Self, Failure> {
        Context::establish(Scope::User)
            .map(|context| Self { context })
            .map_err(service_error)
    }

    pub fn list(&self) -> Result<Vec<ReaderStatus>, Failure> {
        let names = self.names()?;
        let mut states: Vec<ReaderState> = names
            .iter()
            .map(|name| ReaderState::new(name.clone(), State::UNAWARE))
            .collect();
        self.context
            .get_status_change(Duration::ZERO, &mut states)
            .map_err(service_error)?;
        Ok(states
            .iter()
            .map(|state| ReaderStatus {
                name: state.name().to_string_lossy().into_owned(),
                card_present: state.event_state().contains(State::PRESENT),
            })
            .collect())
    }

    fn names(&self) -> Result<Vec<CString>, Failure> {
        let names = self.context.list_readers_owned().map_err(service_error)?;
        if names.is_empty() {
            return Err(Failure::NoReader);
        }
        Ok(names)
    }

    /// The reader to use: the named one, else the first with a card in it. With `wait`, waits
    /// up to that long for a card to be inserted.
    pub fn choose(&self, named: Option<&str>, wait: Option<Duration>) -> Result<CString, Failure> {
        let names = self.names()?;
        let candidates: Vec<CString> = match named {
            Some(wanted) => vec![
                names
                    .into_iter()
                    .find(|name| name.to_string_lossy() == wanted)
                    .ok_or_else(|| Failure::UnknownReader(wanted.to_owned()))?,
            ],
            None => names,
        };
        let deadline = wait.map(|wait| Instant::now() + wait);
        let mut states: Vec<ReaderState> = candidates
            .iter()
            .map(|name| ReaderState::new(name.clone(), State::UNAWARE))
            .collect();
        loop {
            let left = deadline.map_or(Duration::ZERO, |d| {
                d.saturating_duration_since(Instant::now())
            });
            match self.context.get_status_change(left, &mut states) {
                Ok(()) | Err(PcscError::Timeout) => {}
                Err(e) => return Err(service_error(e)),
            }
            if let Some(ready) = states
                .iter()
                .find(|s| s.event_state().contains(State::PRESENT))
            {
                return Ok(ready.name().to_owned());
            }
            if left.is_zero() {
                return Err(Failure::NoCard);
            }
            for state in &mut states {
                state.sync_current_state();
            }
        }
    }

    /// Opens the card in `reader` and runs `work` in one card session (a PC/SC transaction),
    /// so that nothing else talks to the card between the tool's APDUs.
    pub fn with_card<T>(
        &self,
        reader: &CStr,
        work: impl FnOnce(&mut dyn Transport) -> Result<T, Failure>,
    ) -> Result<T, Failure> {
        let mut card = self
            .context
            .connect(reader, ShareMode::Shared, Protocols::ANY)
            .map_err(|e| match e {
                PcscError::NoSmartcard | PcscError::RemovedCard => Failure::NoCard,
                other => card_error(other),
            })?;
        let transaction = card.transaction().map_err(card_error)?;
        let mut session = Session { card: &transaction };
        let result = work(&mut session);
        // Ending the transaction can fail only when the card is gone, which the result already
        // says if it matters.
        let _ = transaction.end(pcsc::Disposition::LeaveCard);
        result
    }
}

struct Session<'a> {
    card: &'a Card,
}

impl Transport for Session<'_> {
    fn transmit(&mut self, apdu: &[u8]) -> Result<Vec<u8>, Failure> {
        let mut buffer = [0; pcsc::MAX_BUFFER_SIZE_EXTENDED];
        let response = self
            .card
            .transmit(apdu, &mut buffer)
            .map(<[u8]>::to_vec)
            .map_err(card_error)?;
        if response.len() < 2 && self.card_is_gone() {
            return Err(Failure::CardRemoved);
        }
        Ok(response)
    }
}

impl Session<'_> {
    /// Some readers (vpcd among them) answer an exchange with a card that has just been pulled
    /// out with no bytes instead of an error; the card's status says which it was. The reader
    /// may need a moment to notice.
    fn card_is_gone(&self) -> bool {
        for _ in 0..10 {
            match self.card.status2_owned() {
                Err(PcscError::RemovedCard | PcscError::NoSmartcard | PcscError::ResetCard) => {
                    return true;
                }
                Ok(status) if !status.status().contains(pcsc::Status::PRESENT) => return true,
                _ => std::thread::sleep(Duration::from_millis(100)),
            }
        }
        false
    }
}

fn service_error(e: PcscError) -> Failure {
    match e {
        PcscError::NoReadersAvailable => Failure::NoReader,
        PcscError::NoService | PcscError::ServiceStopped => Failure::ServiceNotRunning,
        other => Failure::Reader(other.to_string()),
    }
}

fn card_error(e: PcscError) -> Failure {
    match e {
        PcscError::RemovedCard | PcscError::ResetCard | PcscError::NoSmartcard => {
            Failure::CardRemoved
        }
        PcscError::NoService | PcscError::ServiceStopped => Failure::ServiceNotRunning,
        other => Failure::Reader(other.to_string()),
    }
}
