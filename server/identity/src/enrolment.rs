//! Enrolment files: the bindings of card certificates to card numbers that `archivist-card
//! enrol` writes at a workstation and `archivist card enrol` imports on the server, for the
//! `enrolled` card number rule.

/// The columns of an enrolment file, in this order.
pub const ENROLMENT_HEADER: [&str; 4] = [
    "card_number",
    "issuer",
    "certificate_serial",
    "public_key_sha256",
];
