//! The archivist's side of the deployment test, within the scope: read the tests and their
//! documents, record a check, confirm. Definitions and resets are administrators' changes
//! (`store::deployment_test`).

use sqlx::PgPool;
use time::OffsetDateTime;

use super::{ScopedTransaction, SearchRecord, scope_oids};
use crate::{
    archive::{ControllerOid, DocumentOid},
    auth::ControllerScope,
};

/// A controller of the scope and its deployment test, if one has been defined.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TestRecord {
    pub controller_oid: String,
    pub controller_name: String,
    pub production_since: Option<OffsetDateTime>,
    pub test: Option<TestState>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TestState {
    /// `in_progress` or `confirmed`.
    pub state: String,
    pub round: i32,
    pub defined_by: String,
    pub defined_at: OffsetDateTime,
    pub confirmed_by_name: Option<String>,
    pub confirmed_by_satu: Option<String>,
    pub confirmed_by_card: Option<String>,
    pub confirmed_at: Option<OffsetDateTime>,
    pub confirmed_certificate_sha256: Option<String>,
    pub reset_at: Option<OffsetDateTime>,
    pub reset_by: Option<String>,
    pub reset_reason: Option<String>,
}

/// One document of a test case: named by the administrator or a test client's, archived or
/// still awaited, and its check in the current round.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TestDocumentRecord {
    pub controller_oid: String,
    pub document_oid: String,
    /// Named by OID in the definition (otherwise a test client's document).
    pub named: bool,
    /// `None` while the document has not been archived.
    pub archived: Option<SearchRecord>,
    pub checked_by_name: Option<String>,
    pub checked_at: Option<OffsetDateTime>,
}

/// The scope's controllers with their tests, by name.
pub async fn tests(pool: &PgPool, scope: &ControllerScope) -> Result<Vec<TestRecord>, sqlx::Error> {
    if scope.is_empty() {
        return Ok(Vec::new());
    }
    let controllers = scope_oids(scope);
    let mut tx = ScopedTransaction::begin(pool, scope).await?;
    let rows = sqlx::query!(
        r#"SELECT c.oid, c.name, c.production_since,
                  t.state AS "state?", t.round AS "round?", t.defined_by AS "defined_by?",
                  t.defined_at AS "defined_at?", t.confirmed_by_name, t.confirmed_by_satu,
                  t.confirmed_by_card, t.confirmed_at, t.confirmed_certificate_sha256,
                  t.reset_at, t.reset_by, t.reset_reason
           FROM controller c
           LEFT JOIN deployment_test t ON t.controller_oid = c.oid
           WHERE c.oid = ANY ($1)
           ORDER BY c.name, c.oid"#,
        &controllers,
    )
    .fetch_all(&mut *tx.tx)
    .await?;
    tx.commit().await?;
    Ok(rows
        .into_iter()
        .map(|r| TestRecord {
            controller_oid: r.oid,
            controller_name: r.name,
            production_since: r.production_since,
            test: match (r.state, r.round, r.defined_by, r.defined_at) {
                (Some(state), Some(round), Some(defined_by), Some(defined_at)) => Some(TestState {
                    state,
                    round,
                    defined_by,
                    defined_at,
                    confirmed_by_name: r.confirmed_by_name,
                    confirmed_by_satu: r.confirmed_by_satu,
                    confirmed_by_card: r.confirmed_by_card,
                    confirmed_at: r.confirmed_at,
                    confirmed_certificate_sha256: r.confirmed_certificate_sha256,
                    reset_at: r.reset_at,
                    reset_by: r.reset_by,
                    reset_reason: r.reset_reason,
                }),
                _ => None,
            },
        })
        .collect())
}

/// Every document of the scope's test cases: the named ones (archived or not) and every
/// version of the test clients', each with its check in the test's current round.
pub async fn test_documents(
    pool: &PgPool,
    scope: &ControllerScope,
) -> Result<Vec<TestDocumentRecord>, sqlx::Error> {
    if scope.is_empty() {
        return Ok(Vec::new());
    }
    let controllers = scope_oids(scope);
    let mut tx = ScopedTransaction::begin(pool, scope).await?;
    let rows = sqlx::query!(
        r#"WITH listed AS (
               SELECT controller_oid, document_oid, bool_or(named) AS named
               FROM (SELECT d.controller_oid, d.document_oid, true AS named
                     FROM deployment_test_document d
                     WHERE d.controller_oid = ANY ($1)
                     UNION ALL
                     SELECT v.controller_oid, v.document_oid, false
                     FROM deployment_test_client tc
                     JOIN document_version v ON v.controller_oid = tc.controller_oid
                                            AND v.client_id_value = tc.client_id_value
                     WHERE tc.controller_oid = ANY ($1)) AS named_or_client
               GROUP BY controller_oid, document_oid
           )
           SELECT l.controller_oid AS "controller_oid!", l.document_oid AS "document_oid!",
                  l.named AS "named!",
                  v.version_number AS "version_number?", vs.status AS "status?",
                  v.effective_time AS "effective_time?",
                  v.specific_type_code AS "specific_type_code?",
                  v.specific_type_system AS "specific_type_system?",
                  v.service_task_code AS "service_task_code?",
                  v.service_task_system AS "service_task_system?",
                  v.display_names AS "display_names?",
                  v.client_id_value AS "client_id_value?",
                  v.client_family_name AS "client_family_name?",
                  v.client_given_names AS "client_given_names?",
                  c.name AS controller_name,
                  k.checked_by_name AS "checked_by_name?", k.checked_at AS "checked_at?"
           FROM listed l
           JOIN deployment_test t ON t.controller_oid = l.controller_oid
           JOIN controller c ON c.oid = l.controller_oid
           LEFT JOIN document_version v
             ON v.controller_oid = l.controller_oid AND v.document_oid = l.document_oid
           LEFT JOIN document_version_status vs
             ON vs.controller_oid = v.controller_oid AND vs.document_oid = v.document_oid
           LEFT JOIN deployment_test_check k
             ON k.controller_oid = l.controller_oid AND k.round = t.round
            AND k.document_oid = l.document_oid
           ORDER BY l.controller_oid, v.client_id_value NULLS LAST, v.effective_time,
                    l.document_oid"#,
        &controllers,
    )
    .fetch_all(&mut *tx.tx)
    .await?;
    tx.commit().await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let archived = match (
                r.version_number,
                r.status,
                r.effective_time,
                r.client_id_value,
            ) {
                (Some(version_number), Some(status), Some(effective_time), Some(client)) => {
                    Some(SearchRecord {
                        document_oid: r.document_oid.clone(),
                        version_number,
                        status,
                        effective_time,
                        specific_type_code: r.specific_type_code,
                        specific_type_system: r.specific_type_system,
                        service_task_code: r.service_task_code,
                        service_task_system: r.service_task_system,
                        display_names: r.display_names.unwrap_or_default(),
                        client_id_value: client,
                        client_family_name: r.client_family_name,
                        client_given_names: r.client_given_names,
                        controller_name: r.controller_name,
                    })
                }
                _ => None,
            };
            TestDocumentRecord {
                controller_oid: r.controller_oid,
                document_oid: r.document_oid,
                named: r.named,
                archived,
                checked_by_name: r.checked_by_name,
                checked_at: r.checked_at,
            }
        })
        .collect())
}

/// Who records a check or a confirmation: the signed-in card's holder.
#[derive(Clone, Copy, Debug)]
pub struct Checker<'a> {
    pub card_number: &'a str,
    pub satu: Option<&'a str>,
    pub name: &'a str,
    /// SHA-256 of the card certificate, hex.
    pub certificate_sha256: &'a str,
}

/// Why a check or a confirmation was not recorded.
#[derive(Debug, thiserror::Error)]
pub enum TestChangeError {
    /// No such test or document in the scope (or another controller's): the same answer.
    #[error("not found")]
    NotFound,
    #[error("the deployment test is already confirmed")]
    AlreadyConfirmed,
    /// Documents of the test case are not archived or not checked yet.
    #[error("{0} document(s) of the test case are not archived and checked")]
    Unfinished(i64),
    /// The test case has no documents at all.
    #[error("the test case has no documents")]
    Empty,
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// Records that the checker compared one archived test document with the source system.
/// Checking it again in the same round changes nothing (`false`).
pub async fn check_document(
    pool: &PgPool,
    scope: &ControllerScope,
    controller: &ControllerOid,
    document: &DocumentOid,
    checker: Checker<'_>,
) -> Result<bool, TestChangeError> {
    if !scope.contains(controller) {
        return Err(TestChangeError::NotFound);
    }
    let mut tx = ScopedTransaction::begin(pool, scope).await?;
    let test = lock_test(&mut tx, controller).await?;
    if test.state == "confirmed" {
        return Err(TestChangeError::AlreadyConfirmed);
    }
    let in_case = sqlx::query_scalar!(
        r#"SELECT EXISTS (
               SELECT 1 FROM document_version v
               WHERE v.controller_oid = $1 AND v.document_oid = $2
                 AND (EXISTS (SELECT 1 FROM deployment_test_document d
                              WHERE d.controller_oid = $1 AND d.document_oid = $2)
                      OR EXISTS (SELECT 1 FROM deployment_test_client tc
                                 WHERE tc.controller_oid = $1
                                   AND tc.client_id_value = v.client_id_value))
           ) AS "in_case!""#,
        controller.as_str(),
        document.as_str(),
    )
    .fetch_one(&mut *tx.tx)
    .await?;
    if !in_case {
        return Err(TestChangeError::NotFound);
    }
    let added = sqlx::query!(
        r#"INSERT INTO deployment_test_check
               (controller_oid, round, document_oid, checked_by_card, checked_by_satu,
                checked_by_name)
           VALUES ($1, $2, $3, $4, $5, $6)
           ON CONFLICT DO NOTHING"#,
        controller.as_str(),
        test.round,
        document.as_str(),
        checker.card_number,
        checker.satu,
        checker.name,
    )
    .execute(&mut *tx.tx)
    .await?
    .rows_affected();
    tx.commit().await?;
    Ok(added == 1)
}

/// Confirms the test when every document of its case is archived and checked in the current
/// round, and moves the controller to production. Returns the confirmation time.
pub async fn confirm(
    pool: &PgPool,
    scope: &ControllerScope,
    controller: &ControllerOid,
    checker: Checker<'_>,
) -> Result<OffsetDateTime, TestChangeError> {
    if !scope.contains(controller) {
        return Err(TestChangeError::NotFound);
    }
    let mut tx = ScopedTransaction::begin(pool, scope).await?;
    // The lock makes two simultaneous confirmations one confirmation and one refusal.
    let test = lock_test(&mut tx, controller).await?;
    if test.state == "confirmed" {
        return Err(TestChangeError::AlreadyConfirmed);
    }
    let progress = sqlx::query!(
        r#"WITH listed AS (
               SELECT d.document_oid FROM deployment_test_document d WHERE d.controller_oid = $1
               UNION
               SELECT v.document_oid
               FROM deployment_test_client tc
               JOIN document_version v ON v.controller_oid = tc.controller_oid
                                      AND v.client_id_value = tc.client_id_value
               WHERE tc.controller_oid = $1
           )
           SELECT count(*) AS "documents!",
                  count(*) FILTER (WHERE v.document_oid IS NULL OR k.document_oid IS NULL)
                      AS "unfinished!"
           FROM listed l
           LEFT JOIN document_version v
             ON v.controller_oid = $1 AND v.document_oid = l.document_oid
           LEFT JOIN deployment_test_check k
             ON k.controller_oid = $1 AND k.round = $2 AND k.document_oid = l.document_oid"#,
        controller.as_str(),
        test.round,
    )
    .fetch_one(&mut *tx.tx)
    .await?;
    if progress.documents == 0 {
        return Err(TestChangeError::Empty);
    }
    if progress.unfinished > 0 {
        return Err(TestChangeError::Unfinished(progress.unfinished));
    }
    let confirmed_at = sqlx::query_scalar!(
        r#"UPDATE deployment_test
           SET state = 'confirmed', confirmed_at = now(), confirmed_by_card = $2,
               confirmed_by_satu = $3, confirmed_by_name = $4, confirmed_certificate_sha256 = $5
           WHERE controller_oid = $1
           RETURNING confirmed_at AS "confirmed_at!""#,
        controller.as_str(),
        checker.card_number,
        checker.satu,
        checker.name,
        checker.certificate_sha256,
    )
    .fetch_one(&mut *tx.tx)
    .await?;
    sqlx::query!(
        "UPDATE controller SET production_since = $2 WHERE oid = $1 AND production_since IS NULL",
        controller.as_str(),
        confirmed_at,
    )
    .execute(&mut *tx.tx)
    .await?;
    tx.commit().await?;
    Ok(confirmed_at)
}

struct LockedTest {
    state: String,
    round: i32,
}

async fn lock_test(
    tx: &mut ScopedTransaction,
    controller: &ControllerOid,
) -> Result<LockedTest, TestChangeError> {
    sqlx::query_as!(
        LockedTest,
        "SELECT state, round FROM deployment_test WHERE controller_oid = $1 FOR UPDATE",
        controller.as_str(),
    )
    .fetch_optional(&mut *tx.tx)
    .await?
    .ok_or(TestChangeError::NotFound)
}
