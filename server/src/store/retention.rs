//! Retention rules (table `retention_rule`, seeded from Kansallisarkisto's definition) and the
//! choice of rule for a document.

use sqlx::PgPool;
use time::{Date, OffsetDateTime};

use crate::archive::ParsedDocument;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RetentionRule {
    pub id: String,
    pub document_group_code: Option<String>,
    pub service_task_code: Option<String>,
    pub anchor: String,
    pub years: Option<i32>,
}

impl RetentionRule {
    /// The retention end when it can be computed now: only rules that count from the
    /// document's own time. Rules anchored on a later event (death, case closure, birth) and
    /// permanent retention have no end date yet.
    pub fn end_for(&self, effective_time: OffsetDateTime) -> Option<Date> {
        let years = self.years?;
        if self.anchor != "document_time" {
            return None;
        }
        let date = effective_time.date();
        let year = date.year().checked_add(years)?;
        Date::from_calendar_date(year, date.month(), date.day())
            .or_else(|_| Date::from_calendar_date(year, date.month(), date.day() - 1))
            .ok()
    }
}

/// All rules, in precedence order. Loaded once: they change only by migration.
#[derive(Clone, Debug)]
pub struct RetentionRules {
    rules: Vec<RetentionRule>,
    /// The rule for documents no other rule covers (kept until one is decided).
    fallback: usize,
    permanent: usize,
}

impl RetentionRules {
    pub async fn load(pool: &PgPool) -> Result<Self, sqlx::Error> {
        let rules = sqlx::query_as!(
            RetentionRule,
            "SELECT id, document_group_code, service_task_code, anchor, years
             FROM retention_rule ORDER BY precedence, id"
        )
        .fetch_all(pool)
        .await?;
        let position = |id: &str| {
            rules.iter().position(|r| r.id == id).ok_or_else(|| {
                sqlx::Error::Protocol(format!(
                    "retention rule {id:?} is missing: run the migrations"
                ))
            })
        };
        Ok(Self {
            fallback: position("no_rule")?,
            permanent: position("permanent")?,
            rules,
        })
    }

    /// Permanent retention class first, then a rule for the document group, then one for the
    /// service task, else the rule that keeps the document until a rule is decided.
    pub fn rule_for(&self, document: &ParsedDocument) -> &RetentionRule {
        let code = |c: Option<&crate::archive::cda::Code>| c.map(|c| c.code.clone());
        if code(document.total_retention_class.as_ref()).as_deref() == Some("1") {
            return &self.rules[self.permanent];
        }
        let group = code(document.document_group.as_ref());
        let task = code(document.function_code.as_ref());
        self.rules
            .iter()
            .find(|rule| {
                (rule.document_group_code.is_some() && rule.document_group_code == group)
                    || (rule.service_task_code.is_some() && rule.service_task_code == task)
            })
            .unwrap_or(&self.rules[self.fallback])
    }
}
