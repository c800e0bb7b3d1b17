//! Card numbers linked to controllers, and administrators. One set of functions serves the
//! command line (`archivist card …`, `archivist admin …`) and, later, the administrators' pages;
//! `by` says who made a change (`operator:<account>` from a shell, the card key from the web).

use sqlx::{Connection as _, PgConnection, PgPool};
use time::OffsetDateTime;

use identity::{CardKey, CardNumber};

use crate::archive::ControllerOid;

#[derive(Debug, thiserror::Error)]
pub enum CardLinkError {
    #[error(
        "controller {0} is not in the archive (it is added with its first archived document, or ahead of it with `archivist controller create`)"
    )]
    UnknownController(ControllerOid),
    #[error("the link's validity must start before it ends")]
    EmptyValidity,
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
}

/// When a link is in force; open ends mean "from now" and "until unlinked".
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Validity {
    pub from: Option<OffsetDateTime>,
    pub until: Option<OffsetDateTime>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkOutcome {
    Linked,
    AlreadyLinked,
}

/// One row of a card's link history.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CardLink {
    pub issuer: String,
    pub card_number: String,
    pub controller_oid: String,
    pub controller_name: String,
    pub valid_from: Option<OffsetDateTime>,
    pub valid_until: Option<OffsetDateTime>,
    pub linked_at: OffsetDateTime,
    pub linked_by: String,
    pub unlinked_at: Option<OffsetDateTime>,
    pub unlinked_by: Option<String>,
}

impl CardLink {
    /// Linked, not unlinked, and within its validity at `now`.
    pub fn is_in_force(&self, now: OffsetDateTime) -> bool {
        self.unlinked_at.is_none()
            && self.valid_from.is_none_or(|from| from <= now)
            && self.valid_until.is_none_or(|until| now < until)
    }
}

pub async fn link(
    conn: &mut PgConnection,
    card: &CardKey,
    controller: &ControllerOid,
    validity: Validity,
    by: &str,
) -> Result<LinkOutcome, CardLinkError> {
    if let (Some(from), Some(until)) = (validity.from, validity.until)
        && from >= until
    {
        return Err(CardLinkError::EmptyValidity);
    }
    let known = sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM controller WHERE oid = $1) AS "known!""#,
        controller.as_str()
    )
    .fetch_one(&mut *conn)
    .await?;
    if !known {
        return Err(CardLinkError::UnknownController(controller.clone()));
    }
    let inserted = sqlx::query!(
        r#"INSERT INTO card_link (issuer, card_number, controller_oid, valid_from, valid_until, linked_by)
           VALUES ($1, $2, $3, $4, $5, $6)
           ON CONFLICT (issuer, card_number, controller_oid) WHERE unlinked_at IS NULL DO NOTHING"#,
        card.issuer,
        card.card_number.as_str(),
        controller.as_str(),
        validity.from,
        validity.until,
        by,
    )
    .execute(&mut *conn)
    .await?
    .rows_affected();
    Ok(if inserted == 1 {
        LinkOutcome::Linked
    } else {
        LinkOutcome::AlreadyLinked
    })
}

/// Ends the card's live link to the controller; `false` when there was none.
pub async fn unlink(
    conn: &mut PgConnection,
    card: &CardKey,
    controller: &ControllerOid,
    by: &str,
) -> Result<bool, CardLinkError> {
    let ended = sqlx::query!(
        r#"UPDATE card_link SET unlinked_at = now(), unlinked_by = $4
           WHERE issuer = $1 AND card_number = $2 AND controller_oid = $3 AND unlinked_at IS NULL"#,
        card.issuer,
        card.card_number.as_str(),
        controller.as_str(),
        by,
    )
    .execute(&mut *conn)
    .await?
    .rows_affected();
    Ok(ended == 1)
}

/// Every link ever made, newest first: all cards, or those with this number (under any issuer).
pub async fn history(
    pool: &PgPool,
    card_number: Option<&CardNumber>,
) -> Result<Vec<CardLink>, CardLinkError> {
    Ok(sqlx::query_as!(
        CardLink,
        r#"SELECT l.issuer, l.card_number, l.controller_oid, c.name AS controller_name,
                  l.valid_from, l.valid_until, l.linked_at, l.linked_by, l.unlinked_at, l.unlinked_by
           FROM card_link l JOIN controller c ON c.oid = l.controller_oid
           WHERE $1::text IS NULL OR l.card_number = $1
           ORDER BY l.card_number, l.linked_at DESC, l.id DESC"#,
        card_number.map(CardNumber::as_str),
    )
    .fetch_all(pool)
    .await?)
}

/// The controllers a card may see right now, in OID order. Read on every request, so that an
/// unlink takes effect on the next one.
pub async fn controllers_in_force(
    pool: &PgPool,
    card: &CardKey,
) -> Result<Vec<ControllerOid>, sqlx::Error> {
    let oids = sqlx::query_scalar!(
        r#"SELECT DISTINCT controller_oid FROM card_link
           WHERE issuer = $1 AND card_number = $2 AND unlinked_at IS NULL
             AND (valid_from IS NULL OR valid_from <= now())
             AND (valid_until IS NULL OR now() < valid_until)
           ORDER BY controller_oid"#,
        card.issuer,
        card.card_number.as_str(),
    )
    .fetch_all(pool)
    .await?;
    // The column is only ever written from a ControllerOid; a row that is not one is skipped
    // rather than trusted.
    Ok(oids
        .iter()
        .filter_map(|oid| ControllerOid::parse(oid).ok())
        .collect())
}

/// Makes the card an administrator; `false` when it already was one.
pub async fn grant_administrator(
    conn: &mut PgConnection,
    card: &CardKey,
    by: &str,
) -> Result<bool, sqlx::Error> {
    let inserted = sqlx::query!(
        r#"INSERT INTO administrator (issuer, card_number, granted_by) VALUES ($1, $2, $3)
           ON CONFLICT (issuer, card_number) WHERE revoked_at IS NULL DO NOTHING"#,
        card.issuer,
        card.card_number.as_str(),
        by,
    )
    .execute(&mut *conn)
    .await?
    .rows_affected();
    Ok(inserted == 1)
}

/// Ends the card's administrator right; `false` when it had none.
pub async fn revoke_administrator(
    conn: &mut PgConnection,
    card: &CardKey,
    by: &str,
) -> Result<bool, sqlx::Error> {
    let ended = sqlx::query!(
        r#"UPDATE administrator SET revoked_at = now(), revoked_by = $3
           WHERE issuer = $1 AND card_number = $2 AND revoked_at IS NULL"#,
        card.issuer,
        card.card_number.as_str(),
        by,
    )
    .execute(&mut *conn)
    .await?
    .rows_affected();
    Ok(ended == 1)
}

pub async fn is_administrator(pool: &PgPool, card: &CardKey) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM administrator
                          WHERE issuer = $1 AND card_number = $2 AND revoked_at IS NULL) AS "is!""#,
        card.issuer,
        card.card_number.as_str(),
    )
    .fetch_one(pool)
    .await
}

/// One enrolled binding: which certificate belongs to which card number.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Enrolment {
    pub card_number: CardNumber,
    pub issuer: String,
    /// Upper-case hex with colons.
    pub certificate_serial: String,
    /// Lower-case hex.
    pub public_key_sha256: String,
}

#[derive(Debug, thiserror::Error)]
pub enum EnrolmentError {
    #[error(
        "certificate {serial} of {issuer} is already enrolled to another card number or key; bindings are never changed"
    )]
    Conflict { issuer: String, serial: String },
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
}

/// Adds bindings in one transaction: all or none. A binding already there unchanged is
/// skipped; one that differs refuses the whole import. Returns how many were added.
pub async fn enrol(
    conn: &mut PgConnection,
    rows: &[Enrolment],
    by: &str,
) -> Result<u64, EnrolmentError> {
    let mut tx = conn.begin().await?;
    let mut added = 0;
    for row in rows {
        let existing = sqlx::query!(
            r#"SELECT card_number, public_key_sha256 FROM card_enrolment
               WHERE issuer = $1 AND certificate_serial = $2"#,
            row.issuer,
            row.certificate_serial,
        )
        .fetch_optional(&mut *tx)
        .await?;
        match existing {
            Some(e)
                if e.card_number == row.card_number.as_str()
                    && e.public_key_sha256 == row.public_key_sha256 => {}
            Some(_) => {
                return Err(EnrolmentError::Conflict {
                    issuer: row.issuer.clone(),
                    serial: row.certificate_serial.clone(),
                });
            }
            None => {
                sqlx::query!(
                    r#"INSERT INTO card_enrolment
                           (issuer, certificate_serial, public_key_sha256, card_number, enrolled_by)
                       VALUES ($1, $2, $3, $4, $5)"#,
                    row.issuer,
                    row.certificate_serial,
                    row.public_key_sha256,
                    row.card_number.as_str(),
                    by,
                )
                .execute(&mut *tx)
                .await?;
                added += 1;
            }
        }
    }
    tx.commit().await?;
    Ok(added)
}

/// The card number enrolled for a certificate, if its issuer, serial and key all match.
pub async fn enrolled_card_number(
    pool: &PgPool,
    issuer: &str,
    certificate_serial: &str,
    public_key_sha256: &str,
) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar!(
        r#"SELECT card_number FROM card_enrolment
           WHERE issuer = $1 AND certificate_serial = $2 AND public_key_sha256 = $3"#,
        issuer,
        certificate_serial,
        public_key_sha256,
    )
    .fetch_optional(pool)
    .await
}
