//! The search page's answer: the form's fields parsed into a typed filter (a malformed field
//! is `invalid:<field>`, nothing is searched), one page of the active controllers' documents,
//! and an opaque keyset cursor for the next page. Every search is audited.

use app::{
    model::document::{CodedValue, HeaderValue},
    model::search::{CodeOption, SearchOptions, SearchPage, SearchQuery, SearchRow, SortColumn},
    ssr::ServiceError,
};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use serde_json::json;
use time::{OffsetDateTime, format_description::well_known::Rfc3339};

use super::context::RequestContext;
use crate::{
    archive::{DocumentOid, Oid, PersonalIdentityCode},
    audit::{AuditAction, Outcome},
    store::scoped::{
        self, Position, SearchFilter, SearchHit, SearchOrder, SearchRecord, SortKey, StatusFilter,
    },
};

use super::{
    access::{ServerServices, unavailable},
    days::day_range,
};

/// Rows on one page.
const PAGE_ROWS: i64 = 50;

impl ServerServices {
    pub(super) async fn search(
        &self,
        caller: &RequestContext,
        query: SearchQuery,
    ) -> Result<SearchPage, ServiceError> {
        let filter = filter_of(&query)?;
        let scope = self.active_scope(caller).await?;
        let mut hits = scoped::search_documents(&self.reads, &scope, &filter, PAGE_ROWS + 1)
            .await
            .map_err(cancelled_or_unavailable)?;
        let more = hits.len() > usize::try_from(PAGE_ROWS).unwrap_or(usize::MAX);
        hits.truncate(usize::try_from(PAGE_ROWS).unwrap_or(usize::MAX));
        let next = more
            .then(|| {
                hits.last()
                    .map(|last| cursor(filter.order, &last.position(filter.order)))
            })
            .flatten();
        self.record_access(
            caller,
            AuditAction::DocumentsSearched,
            Outcome::Success,
            None,
            None,
            Some(json!({
                "client": filter.client.as_ref().map(PersonalIdentityCode::as_str),
                "from": query.from.trim(),
                "until": query.until.trim(),
                "archived_from": query.archived_from.trim(),
                "archived_until": query.archived_until.trim(),
                "document_type": filter.document_type,
                "service_task": filter.service_task,
                "register": filter.register,
                "document_group": filter.document_group,
                "case": filter.case,
                "set": filter.set,
                "status": filter.status.as_str(),
                "sort": order_name(filter.order),
                "page_after": !query.after.trim().is_empty(),
                "rows": hits.len(),
                "controllers": scope.controllers().iter().map(|c| c.as_str()).collect::<Vec<_>>(),
            })),
        )
        .await?;
        Ok(SearchPage {
            rows: hits.into_iter().map(hit_row).collect(),
            next,
        })
    }
}

/// The code systems of the search form's code fields: document type (asiakasasiakirjatyyppi),
/// service task, register and document group.
const DOCUMENT_TYPES: &str = "1.2.246.537.6.1506";
const SERVICE_TASKS: &str = "1.2.246.537.6.1221";
const REGISTERS: &str = "1.2.246.537.6.1264";
const DOCUMENT_GROUPS: &str = "1.2.246.537.6.1505";

impl ServerServices {
    pub(super) async fn search_options(
        &self,
        caller: &RequestContext,
    ) -> Result<SearchOptions, ServiceError> {
        // Only a signed-in archivist gets the form.
        self.signed_in(caller).await?;
        let codes = scoped::code_lists(
            &self.reads,
            &[DOCUMENT_TYPES, SERVICE_TASKS, REGISTERS, DOCUMENT_GROUPS],
        )
        .await
        .map_err(unavailable)?;
        let of = |system: &str| {
            codes
                .iter()
                .filter(|(s, _, _)| s == system)
                .map(|(_, code, names)| CodeOption {
                    code: code.clone(),
                    names: names.clone(),
                })
                .collect()
        };
        Ok(SearchOptions {
            document_types: of(DOCUMENT_TYPES),
            service_tasks: of(SERVICE_TASKS),
            registers: of(REGISTERS),
            document_groups: of(DOCUMENT_GROUPS),
        })
    }
}

fn filter_of(query: &SearchQuery) -> Result<SearchFilter, ServiceError> {
    let client = match query.client.trim() {
        "" => None,
        text => {
            Some(PersonalIdentityCode::parse(text).map_err(|_| ServiceError::invalid("client"))?)
        }
    };
    let (from, before) = day_range(("from", &query.from), ("until", &query.until))?;
    let (archived_from, archived_before) = day_range(
        ("archived_from", &query.archived_from),
        ("archived_until", &query.archived_until),
    )?;
    let status = match (query.status.trim(), query.all_versions) {
        ("", false) | ("current", _) => StatusFilter::Current,
        ("", true) | ("all", _) => StatusFilter::All,
        ("replaced", _) => StatusFilter::Replaced,
        ("nullified", _) => StatusFilter::Nullified,
        _ => return Err(ServiceError::invalid("status")),
    };
    let (column, descending) = query.sorting().ok_or(ServiceError::invalid("sort"))?;
    let order = SearchOrder {
        key: match column {
            SortColumn::Time => SortKey::DocumentTime,
            SortColumn::Archived => SortKey::ArchivedAt,
            SortColumn::Client => SortKey::Client,
        },
        descending,
    };
    Ok(SearchFilter {
        client,
        from,
        before,
        archived_from,
        archived_before,
        document_type: code("type", &query.document_type)?,
        service_task: code("task", &query.service_task)?,
        register: code("register", &query.register)?,
        document_group: code("group", &query.document_group)?,
        case: oid("case", &query.case)?,
        set: oid("set", &query.set)?,
        status,
        order,
        after: after(order, &query.after)?,
    })
}

/// A code of a code list: letters, digits, dots and dashes, at most 64.
fn code(field: &'static str, value: &str) -> Result<Option<String>, ServiceError> {
    match value.trim() {
        "" => Ok(None),
        text if text.len() <= 64
            && text
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-') =>
        {
            Ok(Some(text.to_owned()))
        }
        _ => Err(ServiceError::invalid(field)),
    }
}

fn oid(field: &'static str, value: &str) -> Result<Option<String>, ServiceError> {
    match value.trim() {
        "" => Ok(None),
        text => Oid::parse(text)
            .map(|oid| Some(oid.as_str().to_owned()))
            .map_err(|_| ServiceError::invalid(field)),
    }
}

/// How the audit log names an order.
fn order_name(order: SearchOrder) -> String {
    let column = match order.key {
        SortKey::DocumentTime => "time",
        SortKey::ArchivedAt => "archived",
        SortKey::Client => "client",
    };
    format!("{column} {}", if order.descending { "desc" } else { "asc" })
}

/// A search the database cancelled at `database.statement_timeout_millis` is the archivist's
/// to narrow, and says so; anything else is the database's trouble.
fn cancelled_or_unavailable(error: sqlx::Error) -> ServiceError {
    const QUERY_CANCELED: &str = "57014";
    if error
        .as_database_error()
        .and_then(|e| e.code())
        .is_some_and(|code| code == QUERY_CANCELED)
    {
        tracing::warn!("a search ran into the statement timeout and was cancelled");
        return ServiceError::TookTooLong;
    }
    unavailable(error)
}

/// The keyset position of a row in an order, opaque to the reader of the address. The order is
/// part of it, so that a cursor is not taken for a position in another order.
fn cursor(order: SearchOrder, position: &Position) -> String {
    let time = position.time.format(&Rfc3339).unwrap_or_default();
    let mut parts = vec![order_name(order)];
    if let Some(client) = &position.client {
        parts.push(client.clone());
    }
    parts.extend([time, position.document_oid.clone()]);
    URL_SAFE_NO_PAD.encode(serde_json::Value::from(parts).to_string())
}

/// A cursor back into a position in `order`; one that was tampered with into nonsense, or made
/// for another order, is refused.
fn after(order: SearchOrder, value: &str) -> Result<Option<Position>, ServiceError> {
    let value = value.trim();
    if value.is_empty() {
        return Ok(None);
    }
    let invalid = || ServiceError::invalid("after");
    let parts: Vec<String> = URL_SAFE_NO_PAD
        .decode(value)
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .ok_or_else(invalid)?;
    let (client, time, oid) = match (order.key, parts.as_slice()) {
        (SortKey::Client, [name, client, time, oid]) if *name == order_name(order) => {
            if client.is_empty() || client.len() > 64 {
                return Err(invalid());
            }
            (Some(client.clone()), time, oid)
        }
        (SortKey::DocumentTime | SortKey::ArchivedAt, [name, time, oid])
            if *name == order_name(order) =>
        {
            (None, time, oid)
        }
        _ => return Err(invalid()),
    };
    let time = OffsetDateTime::parse(time, &Rfc3339).map_err(|_| invalid())?;
    let oid = DocumentOid::parse(oid).map_err(|_| invalid())?;
    Ok(Some(Position {
        client,
        time,
        document_oid: oid.as_str().to_owned(),
    }))
}

fn coded(
    record: &SearchRecord,
    prefix: &str,
    code: &Option<String>,
    system: &Option<String>,
) -> Option<HeaderValue> {
    code.as_ref().map(|code| {
        HeaderValue::Code(CodedValue {
            code: code.clone(),
            system: system.clone(),
            names: None,
            document_name: record
                .display_names
                .get(prefix)
                .and_then(serde_json::Value::as_str)
                .map(str::to_owned),
        })
    })
}

fn hit_row(hit: SearchHit) -> SearchRow {
    SearchRow {
        archived_at: Some(rfc3339(hit.archived_at)),
        ..row_of(hit.record)
    }
}

fn rfc3339(at: OffsetDateTime) -> String {
    at.to_offset(time::UtcOffset::UTC)
        .format(&Rfc3339)
        .unwrap_or_default()
}

pub(super) fn row_of(record: SearchRecord) -> SearchRow {
    let document_type = coded(
        &record,
        "specific_type",
        &record.specific_type_code,
        &record.specific_type_system,
    );
    let service_task = coded(
        &record,
        "service_task",
        &record.service_task_code,
        &record.service_task_system,
    );
    let name: Vec<&str> = [&record.client_family_name, &record.client_given_names]
        .into_iter()
        .filter_map(|part| part.as_deref())
        .collect();
    SearchRow {
        effective_time: rfc3339(record.effective_time),
        archived_at: None,
        document_oid: record.document_oid,
        version_number: record.version_number,
        status: record.status,
        document_type,
        service_task,
        client_id: record.client_id_value,
        client_name: (!name.is_empty()).then(|| name.join(" ")),
        controller_name: record.controller_name,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_goes_back_to_its_position_in_its_own_order_and_nonsense_is_refused() {
        let at = OffsetDateTime::from_unix_timestamp(1_700_000_000).expect("time");
        let newest = SearchOrder::default();
        let by_client = SearchOrder {
            key: SortKey::Client,
            descending: false,
        };
        let in_time = Position {
            client: None,
            time: at,
            document_oid: "1.2.246.10.1.95.1".to_owned(),
        };
        let in_clients = Position {
            client: Some("010101-900R".to_owned()),
            ..in_time.clone()
        };
        let token = cursor(newest, &in_time);
        assert_eq!(after(newest, &token).ok().flatten(), Some(in_time));
        let client_token = cursor(by_client, &in_clients);
        assert_eq!(
            after(by_client, &client_token).ok().flatten(),
            Some(in_clients)
        );
        let oldest = SearchOrder {
            descending: false,
            ..newest
        };
        for (order, bad) in [
            (newest, "x".to_owned()),
            (newest, "bm9uc2Vuc2U".to_owned()),
            (
                newest,
                URL_SAFE_NO_PAD.encode(r#"["time desc","2024-01-01T00:00:00Z","not-an-oid"]"#),
            ),
            (oldest, token.clone()),
            (by_client, token),
            (newest, client_token),
        ] {
            assert!(
                matches!(after(order, &bad), Err(e) if e.is_invalid("after")),
                "{bad}"
            );
        }
    }

    #[test]
    fn fields_are_checked_before_anything_is_searched() {
        let query = |client: &str, from: &str, until: &str| SearchQuery {
            client: client.to_owned(),
            from: from.to_owned(),
            until: until.to_owned(),
            ..SearchQuery::default()
        };
        assert!(filter_of(&query("", "", "")).is_ok());
        assert!(matches!(
            filter_of(&query("131052-308U", "", "")),
            Err(e) if e.is_invalid("client")
        ));
        assert!(matches!(
            filter_of(&query("", "2024-02-30", "")),
            Err(e) if e.is_invalid("from")
        ));
        assert!(matches!(
            filter_of(&query("", "2024-03-02", "2024-03-01")),
            Err(e) if e.is_invalid("until")
        ));
        let filter = filter_of(&query("131052-308t", "2024-03-01", "2024-03-01")).expect("ok");
        assert_eq!(
            filter.client.map(|c| c.to_string()).as_deref(),
            Some("131052-308T")
        );
        assert_eq!(
            filter.before.zip(filter.from).map(|(b, f)| b - f),
            Some(time::Duration::days(1)),
            "the last day is included whole"
        );
    }

    #[test]
    fn codes_oids_statuses_and_archive_days_are_checked_too() {
        let query = |edit: fn(&mut SearchQuery)| {
            let mut query = SearchQuery::default();
            edit(&mut query);
            filter_of(&query)
        };
        let refused = |edit: fn(&mut SearchQuery)| match query(edit) {
            Err(ServiceError::Invalid(field)) => field,
            other => panic!("{other:?}"),
        };
        assert_eq!(refused(|q| q.document_type = "1; DROP".into()), "type");
        assert_eq!(refused(|q| q.service_task = "x".repeat(65)), "task");
        assert_eq!(refused(|q| q.case = "1.2.x".into()), "case");
        assert_eq!(refused(|q| q.set = "not an oid".into()), "set");
        assert_eq!(refused(|q| q.status = "deleted".into()), "status");
        assert_eq!(refused(|q| q.sort = "name".into()), "sort");
        assert_eq!(refused(|q| q.order = "sideways".into()), "sort");
        assert_eq!(
            refused(|q| {
                q.archived_from = "2024-05-02".into();
                q.archived_until = "2024-05-01".into();
            }),
            "archived_until"
        );
        let filter = query(|q| {
            q.document_type = " 51 ".into();
            q.case = "1.2.246.10.1.2".into();
            q.all_versions = true;
        })
        .expect("ok");
        assert_eq!(filter.document_type.as_deref(), Some("51"));
        assert_eq!(filter.case.as_deref(), Some("1.2.246.10.1.2"));
        assert_eq!(
            filter.status,
            StatusFilter::All,
            "the older all=1 still works"
        );
        assert_eq!(
            query(|q| q.status = "nullified".into()).expect("ok").status,
            StatusFilter::Nullified
        );
        assert_eq!(query(|_| ()).expect("ok").status, StatusFilter::Current);
    }
}
