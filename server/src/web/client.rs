//! The client view: every document set of one client in the active controllers, grouped by
//! controller and case, then by service task, in the order of their newest document. Audited
//! as `client.viewed` with the client's identity code.

use app::{
    model::client::{CaseGroup, ClientSet, ClientView, TaskGroup},
    ssr::ServiceError,
};
use serde_json::json;

use super::context::RequestContext;
use crate::{
    archive::PersonalIdentityCode,
    audit::{AuditAction, Outcome},
    store::scoped::{self, ClientSetRecord},
};

use super::{
    access::{ServerServices, unavailable},
    search::row_of,
};

/// Sets on one page; a client with more sees the newest and a note.
const MAX_SETS: i64 = 2000;

impl ServerServices {
    pub(super) async fn client(
        &self,
        caller: &RequestContext,
        client: String,
    ) -> Result<ClientView, ServiceError> {
        let client = PersonalIdentityCode::parse(client.trim())
            .map_err(|_| ServiceError::invalid("client"))?;
        let scope = self.active_scope(caller).await?;
        let mut sets = scoped::client_sets(&self.reads, &scope, &client, MAX_SETS + 1)
            .await
            .map_err(unavailable)?;
        let truncated = sets.len() > usize::try_from(MAX_SETS).unwrap_or(usize::MAX);
        sets.truncate(usize::try_from(MAX_SETS).unwrap_or(usize::MAX));
        self.record_access(
            caller,
            AuditAction::ClientViewed,
            Outcome::Success,
            None,
            None,
            Some(json!({
                "client": client.as_str(),
                "sets": sets.len(),
                "controllers": scope.controllers().iter().map(|c| c.as_str()).collect::<Vec<_>>(),
            })),
        )
        .await?;
        let client_name = sets.first().map(|s| {
            [&s.current.client_family_name, &s.current.client_given_names]
                .into_iter()
                .filter_map(|part| part.as_deref())
                .collect::<Vec<_>>()
                .join(" ")
        });
        Ok(ClientView {
            client_id: client.as_str().to_owned(),
            client_name: client_name.filter(|name| !name.is_empty()),
            cases: grouped(sets),
            truncated,
        })
    }
}

/// Groups the sets (newest first) by controller and case, then by service task, each group in
/// the order of its newest set.
fn grouped(sets: Vec<ClientSetRecord>) -> Vec<CaseGroup> {
    let mut cases: Vec<(String, CaseGroup)> = Vec::new();
    for set in sets {
        let position = cases.iter().position(|(controller, group)| {
            *controller == set.controller_oid && group.case_oid == set.case_oid
        });
        let index = position.unwrap_or_else(|| {
            cases.push((
                set.controller_oid.clone(),
                CaseGroup {
                    controller_name: set.current.controller_name.clone(),
                    case_oid: set.case_oid.clone(),
                    tasks: Vec::new(),
                },
            ));
            cases.len() - 1
        });
        let row = row_of(set.current);
        let tasks = &mut cases[index].1.tasks;
        let entry = ClientSet {
            set_oid: set.set_oid,
            version_count: set.version_count,
            current: row,
        };
        match tasks
            .iter_mut()
            .find(|task| task.service_task == entry.current.service_task)
        {
            Some(task) => task.sets.push(entry),
            None => tasks.push(TaskGroup {
                service_task: entry.current.service_task.clone(),
                sets: vec![entry],
            }),
        }
    }
    cases.into_iter().map(|(_, group)| group).collect()
}
