//! `GET /audit.csv`: the audit page's download for administrators, the same CSV as
//! `archivist audit export`, streamed from the database as it is read. Anyone else gets the
//! not-found page. The download is itself recorded before the first row is sent.

use std::collections::HashMap;

use app::ssr::AuditQuery;
use axum::{
    body::{Body, Bytes},
    extract::{Query, State},
    http::{StatusCode, header},
    response::{IntoResponse, Response},
};
use serde_json::json;
use sqlx::PgPool;
use tokio::sync::mpsc;

use crate::audit::{AuditAction, AuditEvent, AuditLog, ExportError, Outcome};

use super::{admin::audit_filter, context::RequestContext, errors, refusals::RefusalLog};

#[derive(Clone)]
pub struct AuditDownload {
    pub pool: PgPool,
    pub refusals: RefusalLog,
}

pub async fn audit_csv(
    State(download): State<AuditDownload>,
    caller: RequestContext,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    let card = match caller.administrator().await {
        Ok(Some(card)) => card,
        Ok(None) => {
            download
                .refusals
                .record(&caller, "audit_csv", "not_found", None)
                .await;
            return errors::not_found();
        }
        Err(error) => return errors::database_failed(&error, "exporting the audit log"),
    };
    let param = |name: &str| params.get(name).cloned().unwrap_or_default();
    let query = AuditQuery {
        since: param("since"),
        until: param("until"),
        action: param("action"),
        card_number: param("card"),
        controller: param("controller"),
    };
    let Ok(filter) = audit_filter(&query) else {
        return (
            StatusCode::UNPROCESSABLE_ENTITY,
            "the filter is not valid: days are YYYY-MM-DD, card numbers and controller OIDs as shown\n",
        )
            .into_response();
    };
    let audit = AuditLog::new(download.pool.clone());
    let recorded = audit
        .record(AuditEvent {
            action: AuditAction::AuditExported,
            outcome: Outcome::Success,
            client_address: caller.address(),
            certificate: Some(caller.client().identity()),
            card_number: Some(card.card_number.as_str()),
            controller_oid: None,
            document_oid: None,
            details: Some(json!({ "filter": &filter })),
        })
        .await;
    if let Err(error) = recorded {
        return errors::database_failed(&error, "exporting the audit log");
    }

    // A bounded channel: the database is read only as fast as the browser takes the rows.
    let (sender, receiver) = mpsc::channel::<Result<Bytes, ExportError>>(4);
    tokio::spawn(async move {
        let result = audit
            .export_csv(&filter, |chunk| {
                let sender = sender.clone();
                async move {
                    sender
                        .send(Ok(Bytes::from(chunk)))
                        .await
                        .map_err(|_| ExportError::Abandoned)
                }
            })
            .await;
        if let Err(error) = result {
            tracing::error!(%error, "the audit download stopped");
            // Ends the body with an error, so the browser does not keep a truncated file.
            let _ = sender.send(Err(error)).await;
        }
    });
    let body = futures::stream::unfold(receiver, |mut receiver| async move {
        receiver.recv().await.map(|item| (item, receiver))
    });
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"audit-log.csv\"",
            ),
        ],
        Body::from_stream(body),
    )
        .into_response()
}
