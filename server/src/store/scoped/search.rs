//! The search page's query: the filter's terms, one of three orders, and a keyset position.
//!
//! The statement is assembled from the terms that are present (with bound values only; no text
//! of the request reaches the SQL), so that each combination gets a plan of its own that uses
//! the matching index: one statement with `($n IS NULL OR …)` for every term would be planned
//! once, generically, and would scan a whole controller for a rare client. Each controller of
//! the scope is read along its own index in the chosen order (a lateral subquery per
//! controller), and the pages of the controllers are merged: `controller_oid = ANY (…)` cannot
//! be read in order from a (controller, time) index, and would sort every match instead.

use sqlx::{PgPool, Postgres, QueryBuilder};
use time::OffsetDateTime;

use super::{ScopedTransaction, SearchRecord, scope_oids};
use crate::{archive::PersonalIdentityCode, auth::ControllerScope};

/// What the search page asks for, parsed and checked. `None` does not filter.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SearchFilter {
    pub client: Option<PersonalIdentityCode>,
    /// Document time from (inclusive).
    pub from: Option<OffsetDateTime>,
    /// Document time before (exclusive).
    pub before: Option<OffsetDateTime>,
    /// Archived from (inclusive).
    pub archived_from: Option<OffsetDateTime>,
    /// Archived before (exclusive).
    pub archived_before: Option<OffsetDateTime>,
    /// A document type code, general or specific.
    pub document_type: Option<String>,
    pub service_task: Option<String>,
    pub register: Option<String>,
    pub document_group: Option<String>,
    pub case: Option<String>,
    pub set: Option<String>,
    pub status: StatusFilter,
    pub order: SearchOrder,
    /// Keyset: the last row of the previous page, in [`Self::order`].
    pub after: Option<Position>,
}

/// Which versions a search shows.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum StatusFilter {
    /// The current version of each set (the default).
    #[default]
    Current,
    Replaced,
    Nullified,
    All,
}

impl StatusFilter {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Current => "current",
            Self::Replaced => "replaced",
            Self::Nullified => "nullified",
            Self::All => "all",
        }
    }
}

/// The column a search is sorted by. Each has an index that yields it in order within a
/// controller, so that a page costs the same on the first page and the thousandth.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SortKey {
    /// Document time (`effective_time`).
    #[default]
    DocumentTime,
    /// When the archive stored the version.
    ArchivedAt,
    /// The client's identifier, each client's documents newest first in either direction
    /// (a reader looks for a client, then reads that client's latest documents first). Read
    /// backwards for the descending order, the client index yields clients in order and each
    /// client's few documents are sorted afresh (PostgreSQL's incremental sort).
    Client,
}

/// A sort column and its direction; the default is newest document time first.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SearchOrder {
    pub key: SortKey,
    pub descending: bool,
}

impl Default for SearchOrder {
    fn default() -> Self {
        Self {
            key: SortKey::DocumentTime,
            descending: true,
        }
    }
}

/// Where a page ended: the last row's values of the order's columns.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Position {
    /// The client's identifier (the client order only).
    pub client: Option<String>,
    /// The document time, or for the archiving order the archiving time.
    pub time: OffsetDateTime,
    pub document_oid: String,
}

/// One search result: the list row and the columns its keyset position is made of.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct SearchHit {
    #[sqlx(flatten)]
    pub record: SearchRecord,
    pub archived_at: OffsetDateTime,
}

impl SearchHit {
    /// This row's position in `order`, for the next page's cursor.
    pub fn position(&self, order: SearchOrder) -> Position {
        Position {
            client: (order.key == SortKey::Client).then(|| self.record.client_id_value.clone()),
            time: match order.key {
                SortKey::ArchivedAt => self.archived_at,
                SortKey::DocumentTime | SortKey::Client => self.record.effective_time,
            },
            document_oid: self.record.document_oid.clone(),
        }
    }
}

/// Up to `limit` versions matching the filter within the scope, in the filter's order, after
/// its keyset position.
pub async fn search_documents(
    pool: &PgPool,
    scope: &ControllerScope,
    filter: &SearchFilter,
    limit: i64,
) -> Result<Vec<SearchHit>, sqlx::Error> {
    if scope.is_empty() {
        return Ok(Vec::new());
    }
    let controllers = scope_oids(scope);
    let mut query = statement(&controllers, filter, limit);
    let mut tx = ScopedTransaction::begin(pool, scope).await?;
    let rows = query
        .build_query_as::<SearchHit>()
        .fetch_all(&mut *tx.tx)
        .await?;
    tx.commit().await?;
    Ok(rows)
}

fn statement<'a>(
    controllers: &'a [String],
    filter: &'a SearchFilter,
    limit: i64,
) -> QueryBuilder<'a, Postgres> {
    let mut q = QueryBuilder::new("SELECT r.* FROM unnest(");
    q.push_bind(controllers);
    q.push(
        "::text[]) AS scope (oid) CROSS JOIN LATERAL (\
         SELECT v.document_oid, v.version_number, \
                CASE WHEN d.status = 'nullified' THEN 'nullified' \
                     WHEN d.current_version = v.version_number THEN 'current' \
                     ELSE 'replaced' END AS status, \
                v.effective_time, v.specific_type_code, v.specific_type_system, \
                v.service_task_code, v.service_task_system, v.display_names, \
                v.client_id_value, v.client_family_name, \
                v.client_given_names, c.name AS controller_name, s.archived_at ",
    );
    // The rows are read along the order's index, and each row's set, archive state and
    // controller are looked up one by one (a lateral subquery with LIMIT is never turned into a
    // join): the planner cannot estimate how many rows pass the row-level security policy and
    // the set's status together, and with a low estimate it would join and sort the whole
    // controller to return fifty rows.
    let driver = if drives_from_archive_state(filter) {
        q.push(
            "FROM archive_state s \
             CROSS JOIN LATERAL (SELECT * FROM document_version x \
                 WHERE x.controller_oid = s.controller_oid AND x.document_oid = s.document_oid \
                 LIMIT 1) v",
        );
        "s"
    } else {
        q.push(
            "FROM document_version v \
             CROSS JOIN LATERAL (SELECT x.archived_at FROM archive_state x \
                 WHERE x.controller_oid = v.controller_oid AND x.document_oid = v.document_oid \
                 LIMIT 1) s",
        );
        "v"
    };
    q.push(
        " CROSS JOIN LATERAL (SELECT x.status, x.current_version FROM document_set x \
             WHERE x.controller_oid = v.controller_oid AND x.set_oid = v.set_oid",
    );
    q.push(status_term(filter.status));
    q.push(format_args!(
        " LIMIT 1) d \
         CROSS JOIN LATERAL (SELECT x.name FROM controller x WHERE x.oid = scope.oid LIMIT 1) c \
         WHERE {driver}.controller_oid = scope.oid"
    ));
    push_terms(&mut q, filter);
    if let Some(after) = &filter.after {
        push_after(&mut q, filter.order, after);
    }
    q.push(" ORDER BY ");
    push_order(&mut q, filter.order, "v.", "s.");
    q.push(" LIMIT ");
    q.push_bind(limit);
    q.push(") AS r ORDER BY ");
    push_order(&mut q, filter.order, "r.", "r.");
    q.push(" LIMIT ");
    q.push_bind(limit);
    q
}

/// The status term, within the lookup of the version's set (`x`): a version whose set does not
/// match has no set row and drops out. Inside the lookup, the planner estimates it as part of
/// one small lookup, not as a filter over the whole controller of which it would expect almost
/// nothing to pass. By version number, not by OID, for the same reason.
fn status_term(status: StatusFilter) -> &'static str {
    match status {
        StatusFilter::Current => {
            " AND x.status = 'current' AND x.current_version = v.version_number"
        }
        StatusFilter::Replaced => {
            " AND x.status = 'current' AND x.current_version > v.version_number"
        }
        StatusFilter::Nullified => " AND x.status = 'nullified'",
        StatusFilter::All => "",
    }
}

/// The archiving order reads the archive state's (controller, archived at) index, unless a
/// term names a client, case or set: those few versions are read by their own index and
/// sorted instead of being looked for along the whole controller.
fn drives_from_archive_state(filter: &SearchFilter) -> bool {
    filter.order.key == SortKey::ArchivedAt
        && filter.client.is_none()
        && filter.case.is_none()
        && filter.set.is_none()
}

fn push_terms<'a>(q: &mut QueryBuilder<'a, Postgres>, filter: &'a SearchFilter) {
    if let Some(client) = &filter.client {
        q.push(" AND v.client_id_value = ");
        q.push_bind(client.as_str());
    }
    for (term, bound) in [
        (" AND v.effective_time >= ", filter.from),
        (" AND v.effective_time < ", filter.before),
        (" AND s.archived_at >= ", filter.archived_from),
        (" AND s.archived_at < ", filter.archived_before),
    ] {
        if let Some(bound) = bound {
            q.push(term);
            q.push_bind(bound);
        }
    }
    if let Some(code) = &filter.document_type {
        q.push(" AND (v.specific_type_code = ");
        q.push_bind(code);
        q.push(" OR v.general_type_code = ");
        q.push_bind(code);
        q.push(")");
    }
    for (column, value) in [
        ("v.service_task_code", &filter.service_task),
        ("v.registry_type_code", &filter.register),
        ("v.document_group_code", &filter.document_group),
        ("v.case_oid", &filter.case),
        ("v.set_oid", &filter.set),
    ] {
        if let Some(value) = value {
            q.push(format_args!(" AND {column} = "));
            q.push_bind(value);
        }
    }
}

/// Rows strictly after the position in the order. The client order is mixed (clients in the
/// chosen direction, each client's documents newest first in both), so it is spelled out.
fn push_after<'a>(q: &mut QueryBuilder<'a, Postgres>, order: SearchOrder, after: &'a Position) {
    let later = if order.descending { "<" } else { ">" };
    match (order.key, &after.client) {
        (SortKey::Client, Some(client)) => {
            q.push(format_args!(" AND (v.client_id_value {later} "));
            q.push_bind(client);
            q.push(" OR (v.client_id_value = ");
            q.push_bind(client);
            q.push(" AND (v.effective_time, v.document_oid) < (");
            q.push_bind(after.time);
            q.push(", ");
            q.push_bind(&after.document_oid);
            q.push(")))");
        }
        (key, _) => {
            let column = match key {
                SortKey::ArchivedAt => "s.archived_at",
                SortKey::DocumentTime | SortKey::Client => "v.effective_time",
            };
            q.push(format_args!(" AND ({column}, v.document_oid) {later} ("));
            q.push_bind(after.time);
            q.push(", ");
            q.push_bind(&after.document_oid);
            q.push(")");
        }
    }
}

/// The order's columns, qualified for the inner query (`v.`, `s.`) or the merged one (`r.`).
fn push_order(q: &mut QueryBuilder<'_, Postgres>, order: SearchOrder, v: &str, s: &str) {
    let first = if order.descending { "DESC" } else { "ASC" };
    match order.key {
        SortKey::DocumentTime => {
            q.push(format_args!(
                "{v}effective_time {first}, {v}document_oid {first}"
            ));
        }
        SortKey::ArchivedAt => {
            q.push(format_args!(
                "{s}archived_at {first}, {v}document_oid {first}"
            ));
        }
        SortKey::Client => {
            q.push(format_args!(
                "{v}client_id_value {first}, {v}effective_time DESC, {v}document_oid DESC"
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sql(filter: &SearchFilter) -> String {
        let controllers = vec!["1.2.246.10.1.10.0".to_owned()];
        statement(&controllers, filter, 51).into_sql()
    }

    #[test]
    fn only_the_present_terms_reach_the_statement_and_values_are_bound() {
        let plain = sql(&SearchFilter::default());
        assert!(!plain.contains("client_id_value ="), "{plain}");
        assert!(plain.contains(
            "AND x.status = 'current' AND x.current_version = v.version_number LIMIT 1) d"
        ));
        let filter = SearchFilter {
            document_type: Some("'; DROP TABLE x; --".to_owned()),
            status: StatusFilter::All,
            ..SearchFilter::default()
        };
        let text = sql(&filter);
        assert!(!text.contains("DROP"), "{text}");
        assert!(text.contains("v.specific_type_code = $2 OR v.general_type_code = $3"));
        assert!(text.contains("FROM document_version v CROSS JOIN LATERAL"));
        assert!(
            !text.contains("AND x.status"),
            "all versions: no status term"
        );
    }

    #[test]
    fn the_archiving_order_reads_the_archive_state_unless_a_few_versions_are_named() {
        let mut filter = SearchFilter {
            order: SearchOrder {
                key: SortKey::ArchivedAt,
                descending: true,
            },
            ..SearchFilter::default()
        };
        assert!(sql(&filter).contains("FROM archive_state s CROSS JOIN LATERAL"));
        filter.case = Some("1.2.246.10.1.2".to_owned());
        assert!(sql(&filter).contains("FROM document_version v CROSS JOIN LATERAL"));
    }

    #[test]
    fn the_client_order_pages_clients_either_way_and_each_clients_documents_newest_first() {
        for (descending, later, direction) in [(false, ">", "ASC"), (true, "<", "DESC")] {
            let filter = SearchFilter {
                order: SearchOrder {
                    key: SortKey::Client,
                    descending,
                },
                after: Some(Position {
                    client: Some("010101-900R".to_owned()),
                    time: OffsetDateTime::UNIX_EPOCH,
                    document_oid: "1.2.3".to_owned(),
                }),
                ..SearchFilter::default()
            };
            let text = sql(&filter);
            assert!(
                text.contains(&format!(
                    "(v.client_id_value {later} $2 OR (v.client_id_value = $3"
                )) && text.contains("(v.effective_time, v.document_oid) < ($4, $5)"),
                "{text}"
            );
            assert!(
                text.ends_with(&format!(
                    "ORDER BY r.client_id_value {direction}, r.effective_time DESC, \
                     r.document_oid DESC LIMIT $7"
                )),
                "{text}"
            );
        }
    }
}
