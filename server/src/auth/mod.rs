//! The authentication layer above TLS: from a verified card certificate to the card number the
//! configured rule reads, and from that to the controllers the card may see now.

mod scope;

pub use scope::ControllerScope;

use identity::{CardKey, CardNumber, CardNumberError, CardNumberRule, VerifiedClient};
use sqlx::PgPool;

use crate::store::cards;

/// Why a verified card gets no scope.
#[derive(Debug, thiserror::Error)]
pub enum SignInError {
    #[error("{0}")]
    CardNumber(#[from] CardNumberError),
    #[error("the card's links could not be read: {0}")]
    Database(#[from] sqlx::Error),
}

#[derive(Clone, Debug)]
pub struct Authenticator {
    pool: PgPool,
    rule: CardNumberRule,
}

impl Authenticator {
    pub fn new(pool: PgPool, rule: CardNumberRule) -> Self {
        Self { pool, rule }
    }

    pub fn rule(&self) -> &CardNumberRule {
        &self.rule
    }

    /// The card key of the connection's verified leaf certificate: read from the certificate
    /// by the configured rule, or looked up in the enrolled bindings.
    pub async fn card_key(&self, client: &VerifiedClient) -> Result<CardKey, SignInError> {
        if self.rule == CardNumberRule::Enrolled {
            let identity = client.identity();
            let number = cards::enrolled_card_number(
                &self.pool,
                &identity.issuer,
                &identity.serial,
                &identity.public_key_sha256,
            )
            .await?
            .ok_or(CardNumberError::NotEnrolled)?;
            return Ok(CardKey {
                issuer: identity.issuer.clone(),
                // Stored only through CardNumber; a row that is not one is refused, not trusted.
                card_number: CardNumber::parse(&number).map_err(|_| CardNumberError::Malformed)?,
            });
        }
        let leaf = client.chain().first().ok_or(CardNumberError::Unreadable)?;
        Ok(self.rule.derive(leaf)?)
    }

    /// The scope of a card: its links in force now, read afresh so that an unlink takes effect
    /// on the next request.
    pub async fn scope_of(&self, card: CardKey) -> Result<ControllerScope, sqlx::Error> {
        let controllers = cards::controllers_in_force(&self.pool, &card).await?;
        Ok(ControllerScope::new(card, controllers))
    }

    pub async fn is_administrator(&self, card: &CardKey) -> Result<bool, sqlx::Error> {
        cards::is_administrator(&self.pool, card).await
    }
}
