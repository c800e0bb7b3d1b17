//! The server's answers to the pages' questions ([`app::ssr::ArchivistServices`]): the
//! authentication layer and the scoped data access put together, with refusals and failures
//! logged and audited here so that the pages only ever get a plain message.

use app::{
    access::{Access, LinkedController, RuleView},
    ssr::{ArchivistServices, Caller, ServiceError, ServiceFuture},
};
use sqlx::PgPool;
use time::format_description::well_known::Rfc3339;

use crate::{
    audit::{AuditAction, AuditEvent, AuditLog, Outcome},
    auth::{Authenticator, CardNumberRule, SignInError},
    store::scoped,
};

pub struct ServerServices {
    pool: PgPool,
    authenticator: Authenticator,
    audit: AuditLog,
}

impl ServerServices {
    pub fn new(pool: PgPool, authenticator: Authenticator, audit: AuditLog) -> Self {
        Self {
            pool,
            authenticator,
            audit,
        }
    }

    async fn current_access(&self, caller: &Caller) -> Result<Access, ServiceError> {
        let scope = match self.authenticator.scope(&caller.client).await {
            Ok(scope) => scope,
            Err(SignInError::CardNumber(refusal)) => {
                let reason = refusal.reason_code();
                tracing::warn!(address = %caller.address, reason, "card number refused");
                self.audit
                    .record(AuditEvent {
                        action: AuditAction::CardNumberRefused,
                        outcome: Outcome::Refused { reason },
                        client_address: caller.address,
                        certificate: Some(caller.client.identity()),
                        card_number: None,
                    })
                    .await
                    .map_err(unavailable)?;
                return Ok(Access::Refused {
                    reason: reason.to_owned(),
                });
            }
            Err(SignInError::Database(error)) => return Err(unavailable(error)),
        };
        let administrator = self
            .authenticator
            .is_administrator(scope.card())
            .await
            .map_err(unavailable)?;
        let controllers = scoped::controller_summaries(&self.pool, &scope)
            .await
            .map_err(unavailable)?
            .into_iter()
            .map(|c| LinkedController {
                oid: c.oid,
                name: c.name,
                // Whole seconds, like the certificate's validity on the same page.
                last_archived_at: c
                    .last_archived_at
                    .and_then(|t| t.replace_nanosecond(0).ok())
                    .and_then(|t| t.format(&Rfc3339).ok()),
            })
            .collect();
        Ok(Access::Linked {
            card_number: scope.card().card_number.to_string(),
            rule: match self.authenticator.rule().clone() {
                CardNumberRule::SubjectAttribute { oid } => RuleView::SubjectAttribute { oid },
                CardNumberRule::SanOtherName { type_id } => RuleView::SanOtherName { type_id },
                CardNumberRule::IssuerAndSerial => RuleView::IssuerAndSerial,
            },
            administrator,
            controllers,
        })
    }
}

/// The reason goes to the log; the page gets "temporarily unavailable".
fn unavailable(error: sqlx::Error) -> ServiceError {
    tracing::error!(%error, "database error while serving an archivist");
    ServiceError::Unavailable
}

impl ArchivistServices for ServerServices {
    fn access<'a>(&'a self, caller: &'a Caller) -> ServiceFuture<'a, Access> {
        Box::pin(self.current_access(caller))
    }
}
