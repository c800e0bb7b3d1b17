//! The server's answers for the administrators' pages and the audit page: the same
//! administration functions as `archivist card …`, with the signed-in administrator as actor.
//! A card without the administrator right gets "not found" for every administrative request,
//! exactly as for a page that does not exist.

use app::{
    model::admin::{
        AuditEntry, AuditPage, CardLinkView, ControllerChange, ControllerRow, DeploymentTestChange,
        LinkFormOptions, LinkResult,
    },
    ssr::{AuditQuery, LinkRequest, ServiceError},
};
use serde_json::json;
use time::{OffsetDateTime, format_description::well_known::Rfc3339};

use identity::{CardKey, CardNumber};

use super::context::RequestContext;
use crate::{
    administration::{self, Actor, AdminError, ControllerChangeError, DeploymentTestChangeError},
    archive::{ControllerOid, DocumentOid},
    audit::{AuditAction, AuditFilter, AuditRow},
    store::{
        cards::{self, CardLinkError, LinkOutcome, Validity},
        controllers::{self, ControllerError},
        deployment_test::DeploymentTestError,
        scoped,
    },
};

use super::{
    access::{ServerServices, unavailable},
    days::{day_end, day_start},
};

/// Rows the audit page shows at most; the CSV export (`archivist audit export`) has no limit.
pub const AUDIT_PAGE_ROWS: usize = 200;

fn rfc3339(time: OffsetDateTime) -> String {
    time.replace_nanosecond(0)
        .unwrap_or(time)
        .format(&Rfc3339)
        .unwrap_or_default()
}

fn card_number(value: &str) -> Result<CardNumber, ServiceError> {
    CardNumber::parse(value).map_err(|_| ServiceError::invalid("card_number"))
}

fn controller_oid(value: &str) -> Result<ControllerOid, ServiceError> {
    ControllerOid::parse(value.trim()).map_err(|_| ServiceError::invalid("controller"))
}

/// A new controller's OID: a malformed one is named as such, not as "no such controller".
fn new_controller_oid(value: &str) -> Result<ControllerOid, ServiceError> {
    ControllerOid::parse(value.trim()).map_err(|_| ServiceError::invalid("oid"))
}

fn admin_failed(error: AdminError) -> ServiceError {
    match error {
        AdminError::Links(CardLinkError::UnknownController(_)) => {
            ServiceError::invalid("controller")
        }
        AdminError::Links(CardLinkError::EmptyValidity) => ServiceError::invalid("validity"),
        AdminError::Links(CardLinkError::Database(error)) | AdminError::Database(error) => {
            unavailable(error)
        }
        AdminError::Audit(error) => not_audited(&error),
    }
}

/// A change refused because its audit row could not be written: nothing was changed (the
/// change and its row share one transaction), and the administrator is told to try again.
fn not_audited(error: &sqlx::Error) -> ServiceError {
    tracing::error!(%error, "an administrative change was not made: its audit row could not be written");
    ServiceError::Unavailable
}

/// The signed-in administrator as the actor of a change, with the request's certificate and
/// address for the audit row.
pub(super) fn acting<'a>(admin: &'a CardKey, caller: &'a RequestContext) -> Actor<'a> {
    Actor::Administrator {
        card: admin,
        client: caller.client(),
        address: caller.address(),
    }
}

impl ServerServices {
    /// The caller's card key if it holds the administrator right now.
    pub(super) async fn administrator(
        &self,
        caller: &RequestContext,
    ) -> Result<CardKey, ServiceError> {
        match caller.administrator().await {
            Ok(Some(card)) => Ok(card.clone()),
            Ok(None) => Err(ServiceError::NotFound),
            Err(error) => Err(unavailable(error)),
        }
    }

    fn issuer(&self, wanted: &str) -> Result<String, ServiceError> {
        match (wanted.trim(), self.issuers.as_slice()) {
            ("", [only]) => Ok(only.clone()),
            (wanted, all) if all.iter().any(|i| i == wanted) => Ok(wanted.to_owned()),
            _ => Err(ServiceError::invalid("issuer")),
        }
    }

    pub(super) async fn admin_overview(
        &self,
        caller: &RequestContext,
    ) -> Result<LinkFormOptions, ServiceError> {
        self.administrator(caller).await?;
        let controllers = controllers::list(&self.pool).await.map_err(|error| {
            tracing::error!(%error, "cannot list controllers");
            ServiceError::Unavailable
        })?;
        Ok(LinkFormOptions {
            issuers: self.issuers.clone(),
            controllers: controllers
                .into_iter()
                .map(|c| ControllerRow {
                    oid: c.oid,
                    name: c.name,
                    successor_oid: c.successor_oid,
                    in_production: c.in_production,
                })
                .collect(),
        })
    }

    pub(super) async fn card_links(
        &self,
        caller: &RequestContext,
        number: Option<String>,
    ) -> Result<Vec<CardLinkView>, ServiceError> {
        self.administrator(caller).await?;
        let number = number.as_deref().map(card_number).transpose()?;
        let links =
            cards::history(&self.pool, number.as_ref())
                .await
                .map_err(|error| match error {
                    CardLinkError::Database(error) => unavailable(error),
                    other => {
                        tracing::error!(error = %other, "cannot read card links");
                        ServiceError::Unavailable
                    }
                })?;
        let now = OffsetDateTime::now_utc();
        Ok(links
            .into_iter()
            .map(|l| CardLinkView {
                in_force: l.is_in_force(now),
                live: l.unlinked_at.is_none(),
                issuer: l.issuer,
                card_number: l.card_number,
                controller_oid: l.controller_oid,
                controller_name: l.controller_name,
                valid_from: l.valid_from.map(rfc3339),
                valid_until: l.valid_until.map(rfc3339),
                linked_at: rfc3339(l.linked_at),
                linked_by: l.linked_by,
                unlinked_at: l.unlinked_at.map(rfc3339),
                unlinked_by: l.unlinked_by,
            })
            .collect())
    }

    pub(super) async fn link_card(
        &self,
        caller: &RequestContext,
        request: LinkRequest,
    ) -> Result<LinkResult, ServiceError> {
        let admin = self.administrator(caller).await?;
        let card = CardKey {
            card_number: card_number(&request.card_number)?,
            issuer: self.issuer(&request.issuer)?,
        };
        let controller = controller_oid(&request.controller)?;
        let validity = Validity {
            from: day_start("valid_from", &request.valid_from)?,
            until: day_end("valid_until", &request.valid_until)?,
        };
        let actor = acting(&admin, caller);
        match administration::link_card(&self.pool, &actor, &card, &controller, validity).await {
            Ok(LinkOutcome::Linked) => Ok(LinkResult::Linked),
            Ok(LinkOutcome::AlreadyLinked) => Ok(LinkResult::AlreadyLinked),
            Err(error) => Err(admin_failed(error)),
        }
    }

    pub(super) async fn unlink_card(
        &self,
        caller: &RequestContext,
        number: String,
        issuer: String,
        controller: String,
    ) -> Result<(), ServiceError> {
        let admin = self.administrator(caller).await?;
        let card = CardKey {
            card_number: card_number(&number)?,
            issuer: self.issuer(&issuer)?,
        };
        let controller = controller_oid(&controller)?;
        let actor = acting(&admin, caller);
        match administration::unlink_card(&self.pool, &actor, &card, &controller).await {
            Ok(true) => Ok(()),
            Ok(false) => Err(ServiceError::invalid("not_linked")),
            Err(error) => Err(admin_failed(error)),
        }
    }

    pub(super) async fn change_deployment_test(
        &self,
        caller: &RequestContext,
        change: DeploymentTestChange,
    ) -> Result<(), ServiceError> {
        let admin = self.administrator(caller).await?;
        let actor = acting(&admin, caller);
        let pool = &self.pool;
        let result = match change {
            DeploymentTestChange::Define {
                controller,
                documents,
                clients,
            } => {
                let documents = listed(&documents)
                    .map(|oid| {
                        DocumentOid::parse(oid).map_err(|_| ServiceError::invalid("document"))
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                let clients: Vec<String> = listed(&clients).map(str::to_owned).collect();
                administration::define_deployment_test(
                    pool,
                    &actor,
                    &controller_oid(&controller)?,
                    &documents,
                    &clients,
                )
                .await
                .map(|_| ())
            }
            DeploymentTestChange::Reset { controller, reason } => {
                administration::reset_deployment_test(
                    pool,
                    &actor,
                    &controller_oid(&controller)?,
                    &reason,
                )
                .await
                .map(|_| ())
            }
        };
        result.map_err(|error| match error {
            DeploymentTestChangeError::Tests(error) => match error {
                DeploymentTestError::UnknownController(_) => ServiceError::invalid("controller"),
                DeploymentTestError::NoTest(_) => ServiceError::invalid("no_test"),
                // Well formed, but the state does not allow it: a conflict, as for the archivists'
                // checks of a confirmed test.
                DeploymentTestError::Confirmed(_) => ServiceError::conflict("test_confirmed"),
                DeploymentTestError::NothingNamed => ServiceError::invalid("nothing_named"),
                DeploymentTestError::EmptyClient => ServiceError::invalid("client"),
                DeploymentTestError::NoReason => ServiceError::invalid("reason"),
                DeploymentTestError::Database(error) => unavailable(error),
            },
            DeploymentTestChangeError::Audit(error) => not_audited(&error),
        })
    }

    pub(super) async fn change_controller(
        &self,
        caller: &RequestContext,
        change: ControllerChange,
    ) -> Result<(), ServiceError> {
        let admin = self.administrator(caller).await?;
        let actor = acting(&admin, caller);
        let pool = &self.pool;
        let result = match change {
            ControllerChange::Create { oid, name } => {
                administration::create_controller(pool, &actor, &new_controller_oid(&oid)?, &name)
                    .await
            }
            ControllerChange::Rename { oid, name } => {
                administration::rename_controller(pool, &actor, &controller_oid(&oid)?, &name)
                    .await
                    .map(|_| ())
            }
            ControllerChange::Merge { oid, successor } => administration::merge_controller(
                pool,
                &actor,
                &controller_oid(&oid)?,
                &controller_oid(&successor)?,
            )
            .await
            .map(|_| ()),
        };
        result.map_err(|error| match error {
            ControllerChangeError::Controllers(error) => match error {
                ControllerError::Exists(_) => ServiceError::invalid("controller_exists"),
                ControllerError::Unknown(_) => ServiceError::invalid("controller"),
                ControllerError::EmptyName => ServiceError::invalid("name"),
                ControllerError::SuccessorSet(..) => ServiceError::invalid("already_merged"),
                ControllerError::Cycle { .. } => ServiceError::invalid("merge_cycle"),
                ControllerError::Database(error) => unavailable(error),
            },
            ControllerChangeError::Audit(error) => not_audited(&error),
        })
    }

    pub(super) async fn audit(
        &self,
        caller: &RequestContext,
        query: AuditQuery,
    ) -> Result<AuditPage, ServiceError> {
        let filter = audit_filter(&query)?;
        let whole_log = match self.administrator(caller).await {
            Ok(_) => true,
            Err(ServiceError::NotFound) => false,
            Err(other) => return Err(other),
        };
        let scope = if whole_log {
            None
        } else {
            Some(self.full_scope(caller).await?.clone())
        };
        // The search itself is on record: the rows hold people's identifiers.
        self.record_success(
            caller,
            AuditAction::AuditSearched,
            Some(json!({ "filter": &filter, "whole_log": whole_log })),
        )
        .await?;
        let limit = i64::try_from(AUDIT_PAGE_ROWS + 1).unwrap_or(i64::MAX);
        let mut rows = match &scope {
            None => self.audit.search(&filter, limit).await,
            Some(scope) => scoped::audit_rows(&self.reads, scope, &filter, limit).await,
        }
        .map_err(unavailable)?;
        let truncated = rows.len() > AUDIT_PAGE_ROWS;
        rows.truncate(AUDIT_PAGE_ROWS);
        Ok(AuditPage {
            whole_log,
            rows: rows.into_iter().map(entry).collect(),
            truncated,
        })
    }
}

/// The audit page's filter, each field checked.
pub(super) fn audit_filter(query: &AuditQuery) -> Result<AuditFilter, ServiceError> {
    Ok(AuditFilter {
        since: day_start("since", &query.since)?,
        until: day_end("until", &query.until)?,
        action: Some(query.action.trim().to_owned()).filter(|a| !a.is_empty()),
        card_number: Some(query.card_number.trim())
            .filter(|c| !c.is_empty())
            .map(card_number)
            .transpose()?
            .map(|n| n.as_str().to_owned()),
        controller_oid: Some(query.controller.trim())
            .filter(|c| !c.is_empty())
            .map(controller_oid)
            .transpose()?
            .map(|oid| oid.as_str().to_owned()),
    })
}

fn entry(row: AuditRow) -> AuditEntry {
    AuditEntry {
        id: row.id,
        occurred_at: rfc3339(row.occurred_at),
        action: row.action,
        outcome: row.outcome,
        reason: row.reason,
        client_address: row.client_address,
        actor: row
            .card_number
            .clone()
            .or(row.operator.clone())
            .unwrap_or_default(),
        satu: row.satu,
        controller_oid: row.controller_oid,
        document_oid: row.document_oid,
        details: row.details,
    }
}

/// The entries of a list typed one per line (spaces and commas separate too).
fn listed(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| c.is_whitespace() || c == ',')
        .filter(|entry| !entry.is_empty())
}
