//! `enrol --out FILE`: one enrolment record, read from one card in one card session, in the
//! CSV format `archivist card import-enrolment` reads (`identity::enrolment`). Several cards
//! go into one file: a record is appended to a file that already has the header.

use std::{
    fs::OpenOptions,
    io::{Read, Write},
    path::Path,
};

use identity::{CardNumber, certificate::read_identity, enrolment::ENROLMENT_HEADER};

use crate::{failure::Failure, fineid::CardContents};

/// The record's fields, in [`ENROLMENT_HEADER`] order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EnrolmentRecord {
    pub card_number: CardNumber,
    pub issuer: String,
    pub certificate_serial: String,
    pub public_key_sha256: String,
}

impl EnrolmentRecord {
    pub fn from_card(contents: &CardContents) -> Result<Self, Failure> {
        let serial = contents.serial.as_ref().ok_or_else(|| {
            Failure::NoCardNumber("the card has no TokenInfo (EF 5032)".to_owned())
        })?;
        let card_number = CardNumber::parse(&serial.printed).map_err(|e| {
            Failure::NoCardNumber(format!("{:?} from the card: {e}", serial.printed))
        })?;
        let identity =
            read_identity(&contents.certificate).map_err(|e| Failure::damaged(e.to_string()))?;
        Ok(Self {
            card_number,
            issuer: identity.issuer,
            certificate_serial: identity.serial,
            public_key_sha256: identity.public_key_sha256,
        })
    }

    fn fields(&self) -> [&str; 4] {
        [
            self.card_number.as_str(),
            &self.issuer,
            &self.certificate_serial,
            &self.public_key_sha256,
        ]
    }
}

/// What [`append`] did.
#[derive(Debug, PartialEq, Eq)]
pub enum Written {
    Added,
    AlreadyInFile,
}

/// Appends `record` to `path`, writing the header first when the file is new or empty. A file
/// that holds something else is left untouched.
pub fn append(path: &Path, record: &EnrolmentRecord) -> Result<Written, Failure> {
    let output = |e: &dyn std::fmt::Display| Failure::Output(format!("{}: {e}", path.display()));
    let mut file = OpenOptions::new()
        .read(true)
        .append(true)
        .create(true)
        .open(path)
        .map_err(|e| output(&e))?;
    let mut existing = String::new();
    file.read_to_string(&mut existing).map_err(|e| output(&e))?;
    let new_file = existing.trim().is_empty();
    if !new_file {
        let mut reader = csv::Reader::from_reader(existing.as_bytes());
        let header = reader.headers().map_err(|e| output(&e))?;
        if header.iter().collect::<Vec<_>>() != ENROLMENT_HEADER {
            return Err(output(
                &"not an enrolment file (its first line is not the header)",
            ));
        }
        for row in reader.records() {
            let row = row.map_err(|e| output(&e))?;
            if row.iter().collect::<Vec<_>>() == record.fields() {
                return Ok(Written::AlreadyInFile);
            }
        }
    }
    let mut text = Vec::new();
    if !new_file && !existing.ends_with('\n') {
        text.push(b'\n');
    }
    {
        let mut writer = csv::WriterBuilder::new()
            .quote_style(csv::QuoteStyle::Necessary)
            .from_writer(&mut text);
        if new_file {
            writer
                .write_record(ENROLMENT_HEADER)
                .map_err(|e| output(&e))?;
        }
        writer
            .write_record(record.fields())
            .map_err(|e| output(&e))?;
        writer.flush().map_err(|e| output(&e))?;
    }
    file.write_all(&text).map_err(|e| output(&e))?;
    file.sync_all().map_err(|e| output(&e))?;
    Ok(Written::Added)
}
