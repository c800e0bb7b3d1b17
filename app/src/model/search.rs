//! Searching the documents of the active controllers: the filter as the search page's address
//! holds it, and one page of results with the cursor to the next.

use serde::{Deserialize, Serialize};

use crate::model::document::HeaderValue;

/// The search form's fields, as typed (the server parses and checks them). Empty fields do not
/// filter.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchQuery {
    /// A personal identity code.
    pub client: String,
    /// Document time from this day (`YYYY-MM-DD`), inclusive.
    pub from: String,
    /// Document time to this day, inclusive.
    pub until: String,
    /// Archived from this day, inclusive.
    pub archived_from: String,
    /// Archived to this day, inclusive.
    pub archived_until: String,
    /// A document type code (general or specific).
    pub document_type: String,
    /// A service task code.
    pub service_task: String,
    /// A register code.
    pub register: String,
    /// A document group code.
    pub document_group: String,
    /// A case OID.
    pub case: String,
    /// A document set OID (every version of one document).
    pub set: String,
    /// `""` current versions only, `all`, `replaced` or `nullified`.
    pub status: String,
    /// Also replaced and nullified versions: the older form of `status=all`, kept so that
    /// bookmarks made with it still work.
    pub all_versions: bool,
    /// The sort column: `""` or `time` (document time), `archived` or `client`.
    pub sort: String,
    /// `asc` or `desc`; `""` is the column's usual direction (times newest first, clients
    /// from A).
    pub order: String,
    /// Where the previous page ended (from [`SearchPage::next`]).
    pub after: String,
}

/// The address parameters of the search page, in the order of the form, with the query's field
/// for each.
pub const SEARCH_PARAMETERS: [&str; 15] = [
    "client",
    "from",
    "until",
    "archived_from",
    "archived_until",
    "type",
    "task",
    "register",
    "group",
    "case",
    "set",
    "status",
    "sort",
    "order",
    "after",
];

impl SearchQuery {
    /// The query from the page address's parameters (`get` reads one by name).
    pub fn from_parameters(get: impl Fn(&str) -> String) -> Self {
        Self {
            client: get("client"),
            from: get("from"),
            until: get("until"),
            archived_from: get("archived_from"),
            archived_until: get("archived_until"),
            document_type: get("type"),
            service_task: get("task"),
            register: get("register"),
            document_group: get("group"),
            case: get("case"),
            set: get("set"),
            status: get("status"),
            all_versions: get("all") == "1",
            sort: get("sort"),
            order: get("order"),
            after: get("after"),
        }
    }

    /// The value of one address parameter.
    pub fn parameter(&self, name: &str) -> &str {
        match name {
            "client" => &self.client,
            "from" => &self.from,
            "until" => &self.until,
            "archived_from" => &self.archived_from,
            "archived_until" => &self.archived_until,
            "type" => &self.document_type,
            "task" => &self.service_task,
            "register" => &self.register,
            "group" => &self.document_group,
            "case" => &self.case,
            "set" => &self.set,
            "status" if self.status.is_empty() && self.all_versions => "all",
            "status" => &self.status,
            "sort" => &self.sort,
            "order" => &self.order,
            "after" => &self.after,
            _ => "",
        }
    }
}

/// The columns the results can be sorted by, as the address names them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SortColumn {
    /// Document time (the default).
    Time,
    /// When the archive stored the version.
    Archived,
    /// The client's identifier.
    Client,
}

impl SortColumn {
    pub fn parameter(self) -> &'static str {
        match self {
            Self::Time => "time",
            Self::Archived => "archived",
            Self::Client => "client",
        }
    }

    pub fn from_parameter(text: &str) -> Option<Self> {
        match text {
            "" | "time" => Some(Self::Time),
            "archived" => Some(Self::Archived),
            "client" => Some(Self::Client),
            _ => None,
        }
    }

    /// The direction a column starts in: times newest first, clients from the start.
    pub fn descending_by_default(self) -> bool {
        !matches!(self, Self::Client)
    }
}

impl SearchQuery {
    /// The order the query asks for (column, descending); `None` when `sort` or `order` is
    /// not one the search knows.
    pub fn sorting(&self) -> Option<(SortColumn, bool)> {
        let column = SortColumn::from_parameter(self.sort.trim())?;
        let descending = match self.order.trim() {
            "" => column.descending_by_default(),
            "desc" => true,
            "asc" => false,
            _ => return None,
        };
        Some((column, descending))
    }

    /// The first page of this search sorted by `column`; a column that already sorts the
    /// results turns round.
    pub fn sorted_by(&self, column: SortColumn) -> Self {
        let descending = match self.sorting() {
            Some((current, descending)) if current == column => !descending,
            _ => column.descending_by_default(),
        };
        Self {
            sort: column.parameter().to_owned(),
            order: if descending { "desc" } else { "asc" }.to_owned(),
            after: String::new(),
            ..self.clone()
        }
    }
}

/// The choices of the search form's code fields, from the code lists.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchOptions {
    pub document_types: Vec<CodeOption>,
    pub service_tasks: Vec<CodeOption>,
    pub registers: Vec<CodeOption>,
    pub document_groups: Vec<CodeOption>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CodeOption {
    pub code: String,
    /// Finnish, Swedish and English.
    pub names: [String; 3],
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchPage {
    pub rows: Vec<SearchRow>,
    /// The cursor of the next page, when there is one.
    pub next: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchRow {
    pub document_oid: String,
    pub version_number: i32,
    pub status: String,
    /// RFC 3339, UTC.
    pub effective_time: String,
    /// RFC 3339, UTC; the search reads it (other lists leave it out).
    pub archived_at: Option<String>,
    pub document_type: Option<HeaderValue>,
    pub service_task: Option<HeaderValue>,
    pub client_id: String,
    pub client_name: Option<String>,
    pub controller_name: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_column_header_sorts_by_its_column_and_turns_round_on_a_second_click() {
        let plain = SearchQuery::default();
        assert_eq!(plain.sorting(), Some((SortColumn::Time, true)));
        let by_client = plain.sorted_by(SortColumn::Client);
        assert_eq!(by_client.sorting(), Some((SortColumn::Client, false)));
        assert_eq!(
            by_client.sorted_by(SortColumn::Client).sorting(),
            Some((SortColumn::Client, true))
        );
        let paged = SearchQuery {
            after: "cursor".to_owned(),
            ..SearchQuery::default()
        };
        let oldest_first = paged.sorted_by(SortColumn::Time);
        assert_eq!(oldest_first.sorting(), Some((SortColumn::Time, false)));
        assert_eq!(
            oldest_first.after, "",
            "a new order starts at its first page"
        );
        for (sort, order) in [("name", ""), ("time", "up")] {
            let query = SearchQuery {
                sort: sort.to_owned(),
                order: order.to_owned(),
                ..SearchQuery::default()
            };
            assert_eq!(query.sorting(), None, "{sort} {order}");
        }
    }
}
