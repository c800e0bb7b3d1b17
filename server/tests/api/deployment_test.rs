//! The deployment test through real TLS: an administrator defines the test case, the archivist
//! sees it within the scope, checks its documents and confirms once; another controller's test
//! answers exactly like none; a reset starts a new round and keeps the old one's checks.

use server::{
    administration::{self, Actor},
    archive::{ControllerOid, DocumentOid},
    store::deployment_test::{self, DeploymentTestError},
};
use sqlx::PgPool;

use crate::helpers::{
    Session, TestApp, card, database_url, refusal, seed, two_controllers_with_files,
};

/// A document OID that nothing in the archive has.
const AWAITED: &str = "1.2.246.10.12345670.10.0.99.1";
const NOBODYS_CONTROLLER: &str = "1.2.246.10.99999999.10.0";

/// Controllers A and B with documents; archivist-1 linked to A, archivist-2 to B.
struct Archive {
    app: TestApp,
    pool: PgPool,
    a: ControllerOid,
    b: ControllerOid,
}

impl Archive {
    async fn new() -> Self {
        let app = TestApp::spawn().await;
        let ((a, b), _) = two_controllers_with_files(&app.database).await;
        let pool = PgPool::connect(&database_url(&app.database))
            .await
            .expect("connect");
        seed::link(&pool, &card("999000110"), &a).await;
        seed::link(&pool, &card("99900022B"), &b).await;
        Self { app, pool, a, b }
    }

    /// The first document of `controller` and its client's identifier.
    async fn document_and_client(&self, controller: &ControllerOid) -> (String, String) {
        sqlx::query_as(
            "SELECT document_oid, client_id_value FROM document_version
             WHERE controller_oid = $1 ORDER BY document_oid LIMIT 1",
        )
        .bind(controller.as_str())
        .fetch_one(&self.pool)
        .await
        .expect("a document")
    }

    /// Every document of the client in the controller.
    async fn client_documents(&self, controller: &ControllerOid, client: &str) -> Vec<String> {
        sqlx::query_scalar(
            "SELECT document_oid FROM document_version
             WHERE controller_oid = $1 AND client_id_value = $2 ORDER BY document_oid",
        )
        .bind(controller.as_str())
        .bind(client)
        .fetch_all(&self.pool)
        .await
        .expect("documents")
    }

    async fn define(&self, controller: &ControllerOid, documents: &[&str], clients: &[&str]) {
        let documents: Vec<DocumentOid> = documents
            .iter()
            .map(|d| DocumentOid::parse(d).expect("oid"))
            .collect();
        let clients: Vec<String> = clients.iter().map(|c| (*c).to_owned()).collect();
        administration::define_deployment_test(
            &self.pool,
            &Actor::Operator,
            controller,
            &documents,
            &clients,
        )
        .await
        .expect("define");
    }

    /// The audit rows of deployment tests: (action, outcome, reason, card, controller, document).
    async fn audit(&self) -> Vec<AuditRow> {
        sqlx::query_as(
            "SELECT action, outcome, reason, card_number, controller_oid, document_oid
             FROM audit_log WHERE action LIKE '%deployment_test%' ORDER BY id",
        )
        .fetch_all(&self.pool)
        .await
        .expect("audit")
    }

    async fn in_production(&self, controller: &ControllerOid) -> bool {
        sqlx::query_scalar("SELECT production_since IS NOT NULL FROM controller WHERE oid = $1")
            .bind(controller.as_str())
            .fetch_one(&self.pool)
            .await
            .expect("controller")
    }

    async fn stop(self) {
        self.pool.close().await;
        self.app.stop().await;
    }
}

type AuditRow = (
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
);

async fn tests_of(session: &Session) -> serde_json::Value {
    let response = session.get("/api/deployment-tests").await;
    assert_eq!(response.status, 200, "{}", response.body);
    serde_json::from_str(&response.body).expect("json")
}

async fn check(session: &Session, controller: &str, document: &str) -> (u16, String) {
    let response = session
        .post(
            "/api/deployment-tests/check",
            &format!("controller={controller}&document={document}"),
        )
        .await;
    (response.status, response.body)
}

async fn confirm(session: &Session, controller: &str) -> (u16, String) {
    let response = session
        .post(
            "/api/deployment-tests/confirm",
            &format!("controller={controller}"),
        )
        .await;
    (response.status, response.body)
}

#[tokio::test]
async fn the_archivist_sees_the_test_case_of_the_own_controllers_only() {
    let archive = Archive::new().await;
    let (named, _) = archive.document_and_client(&archive.a).await;
    let (_, client) = archive.document_and_client(&archive.a).await;
    let client_documents = archive.client_documents(&archive.a, &client).await;
    archive
        .define(&archive.a, &[&named, AWAITED], &[&client])
        .await;
    let (theirs, _) = archive.document_and_client(&archive.b).await;
    archive.define(&archive.b, &[&theirs], &[]).await;

    let archivist = Session::start(&archive.app, "archivist-1").await;
    let tests = tests_of(&archivist).await;
    let tests = tests.as_array().expect("array");
    assert_eq!(tests.len(), 1, "only controller A: {tests:?}");
    let test = &tests[0];
    assert_eq!(test["controller_oid"], archive.a.as_str());
    assert!(test["production_since"].is_null());
    let documents = test["test"]["documents"].as_array().expect("documents");
    let oids: Vec<&str> = documents
        .iter()
        .filter_map(|d| d["document_oid"].as_str())
        .collect();
    assert!(oids.contains(&AWAITED), "{oids:?}");
    for document in &client_documents {
        assert!(oids.contains(&document.as_str()), "{document} in {oids:?}");
    }
    assert_eq!(
        oids.len(),
        client_documents.len() + 1,
        "the named document is the client's too, listed once"
    );
    let awaited = documents
        .iter()
        .find(|d| d["document_oid"] == AWAITED)
        .expect("awaited");
    assert!(awaited["archived"].is_null(), "not archived yet");
    assert_eq!(awaited["named"], true);
    let named_row = documents
        .iter()
        .find(|d| d["document_oid"] == named.as_str())
        .expect("named");
    assert_eq!(named_row["archived"]["client_id"], client.as_str());
    assert!(
        !archivist
            .get("/deployment-test")
            .await
            .body
            .contains(&theirs)
    );

    // Neither a check nor a confirmation can be made before the awaited document is archived;
    // the awaited one itself cannot be checked.
    let (status, body) = confirm(&archivist, archive.a.as_str()).await;
    assert_eq!(
        (status, refusal(&body) == "conflict:unfinished"),
        (409, true),
        "{body}"
    );
    let (status, _) = check(&archivist, archive.a.as_str(), AWAITED).await;
    assert_eq!(status, 404);

    // Another controller's test, a document outside the case and a controller nobody has all
    // get the same answer, and nothing about them is written to the log.
    let before = archive.audit().await.len();
    let answers = [
        check(&archivist, archive.b.as_str(), &theirs).await,
        check(&archivist, archive.a.as_str(), &theirs).await,
        check(&archivist, NOBODYS_CONTROLLER, &theirs).await,
        check(&archivist, "not-an-oid", "neither").await,
        confirm(&archivist, archive.b.as_str()).await,
        confirm(&archivist, NOBODYS_CONTROLLER).await,
    ];
    for (status, body) in &answers {
        assert_eq!(*status, 404, "{body}");
        assert_eq!(body, &answers[0].1, "one answer for all");
    }
    assert_eq!(archive.audit().await.len(), before);
    assert!(!archive.in_production(&archive.b).await);

    let rows = archive.audit().await;
    assert!(
        rows.iter()
            .any(|r| r.0 == "deployment_test.viewed" && r.3.as_deref() == Some("999000110")),
        "{rows:?}"
    );
    assert!(
        rows.iter().any(|r| r.0 == "deployment_test.confirmed"
            && r.1 == "refused"
            && r.2.as_deref() == Some("unfinished")),
        "{rows:?}"
    );
    archive.stop().await;
}

#[tokio::test]
async fn checked_and_confirmed_once_moves_the_controller_to_production_until_a_reset() {
    let archive = Archive::new().await;
    let (_, client) = archive.document_and_client(&archive.a).await;
    let documents = archive.client_documents(&archive.a, &client).await;
    archive.define(&archive.a, &[], &[&client]).await;
    let archivist = Session::start(&archive.app, "archivist-1").await;
    let a = archive.a.as_str();

    let (last, first) = documents.split_last().expect("documents");
    for document in first {
        assert_eq!(check(&archivist, a, document).await.0, 200);
    }
    let (status, body) = confirm(&archivist, a).await;
    assert_eq!(status, 409, "one document is not checked: {body}");
    assert_eq!(check(&archivist, a, last).await.0, 200);
    assert_eq!(check(&archivist, a, last).await.0, 200, "again: no change");
    assert!(!archive.in_production(&archive.a).await);

    let (status, body) = confirm(&archivist, a).await;
    assert_eq!(status, 200, "{body}");
    assert!(archive.in_production(&archive.a).await);
    let test = &tests_of(&archivist).await[0];
    let confirmed = &test["test"]["confirmed"];
    assert_eq!(confirmed["card_number"], "999000110");
    assert_eq!(
        confirmed["certificate_sha256"].as_str().map(str::len),
        Some(64)
    );
    assert!(test["production_since"].is_string());

    let (status, body) = confirm(&archivist, a).await;
    assert_eq!(
        (status, refusal(&body) == "conflict:already_confirmed"),
        (409, true),
        "{body}"
    );
    let (status, _) = check(&archivist, a, last).await;
    assert_eq!(status, 409, "a confirmed test takes no checks");

    let rows = archive.audit().await;
    let checks = rows
        .iter()
        .filter(|r| r.0 == "deployment_test.document_checked" && r.1 == "success")
        .count();
    assert_eq!(
        checks,
        documents.len(),
        "one row per recorded check: {rows:?}"
    );
    let confirmations: Vec<_> = rows
        .iter()
        .filter(|r| r.0 == "deployment_test.confirmed")
        .map(|r| (r.1.as_str(), r.2.as_deref(), r.4.as_deref()))
        .collect();
    assert_eq!(
        confirmations,
        [
            ("refused", Some("unfinished"), Some(a)),
            ("success", None, Some(a)),
            ("refused", Some("already_confirmed"), Some(a)),
        ]
    );

    // A reset: a new round without checks, the controller back in deployment, the reason shown.
    let round = administration::reset_deployment_test(
        &archive.pool,
        &Actor::Operator,
        &archive.a,
        "the source system sent wrong codes",
    )
    .await
    .expect("reset");
    assert_eq!(round, 2);
    assert!(!archive.in_production(&archive.a).await);
    let test = &tests_of(&archivist).await[0];
    assert_eq!(test["test"]["round"], 2);
    assert!(test["test"]["confirmed"].is_null());
    assert_eq!(
        test["test"]["last_reset"]["reason"],
        "the source system sent wrong codes"
    );
    assert!(
        test["test"]["documents"]
            .as_array()
            .expect("documents")
            .iter()
            .all(|d| d["checked"].is_null()),
        "round 2 starts unchecked"
    );
    assert_eq!(confirm(&archivist, a).await.0, 409);

    // The first round's checks are history: kept, and not even the owner changes them.
    let kept: i64 =
        sqlx::query_scalar("SELECT count(*) FROM deployment_test_check WHERE round = 1")
            .fetch_one(&archive.pool)
            .await
            .expect("count");
    assert_eq!(kept, i64::try_from(documents.len()).expect("small"));
    for statement in [
        "UPDATE deployment_test_check SET checked_by_name = 'someone else'",
        "DELETE FROM deployment_test_check",
    ] {
        let refused = sqlx::query(statement).execute(&archive.pool).await;
        assert!(refused.is_err(), "{statement}");
    }
    archive.stop().await;
}

#[tokio::test]
async fn definitions_and_resets_refuse_what_cannot_be_done() {
    let archive = Archive::new().await;
    let pool = &archive.pool;
    let nobody = ControllerOid::parse(NOBODYS_CONTROLLER).expect("oid");
    let document = DocumentOid::parse(AWAITED).expect("oid");
    assert!(matches!(
        deployment_test::define(
            &mut pool.acquire().await.expect("connection"),
            &nobody,
            std::slice::from_ref(&document),
            &[],
            "test"
        )
        .await,
        Err(DeploymentTestError::UnknownController(_))
    ));
    assert!(matches!(
        deployment_test::define(
            &mut pool.acquire().await.expect("connection"),
            &archive.a,
            &[],
            &[],
            "test"
        )
        .await,
        Err(DeploymentTestError::NothingNamed)
    ));
    assert!(matches!(
        deployment_test::define(
            &mut pool.acquire().await.expect("connection"),
            &archive.a,
            &[],
            &[" ".to_owned()],
            "test"
        )
        .await,
        Err(DeploymentTestError::EmptyClient)
    ));
    assert!(matches!(
        deployment_test::reset(
            &mut pool.acquire().await.expect("connection"),
            &archive.a,
            "why",
            "test"
        )
        .await,
        Err(DeploymentTestError::NoTest(_))
    ));
    let defined = deployment_test::define(
        &mut pool.acquire().await.expect("connection"),
        &archive.a,
        std::slice::from_ref(&document),
        &[],
        "test",
    )
    .await
    .expect("define");
    assert!(defined.created && defined.documents_added == 1);
    let again = deployment_test::define(
        &mut pool.acquire().await.expect("connection"),
        &archive.a,
        std::slice::from_ref(&document),
        &[],
        "test",
    )
    .await
    .expect("define again");
    assert_eq!((again.created, again.documents_added), (false, 0));
    assert!(matches!(
        deployment_test::reset(
            &mut pool.acquire().await.expect("connection"),
            &archive.a,
            "  ",
            "test"
        )
        .await,
        Err(DeploymentTestError::NoReason)
    ));

    // A confirmed test's case is not changed behind the confirmation's back.
    sqlx::query(
        "UPDATE deployment_test SET state = 'confirmed', confirmed_at = now(),
             confirmed_by_satu = 'x', confirmed_by_card = 'x', confirmed_certificate_sha256 = 'x'
         WHERE controller_oid = $1",
    )
    .bind(archive.a.as_str())
    .execute(pool)
    .await
    .expect("confirm by hand");
    assert!(matches!(
        deployment_test::define(
            &mut pool.acquire().await.expect("connection"),
            &archive.a,
            &[document],
            &[],
            "test"
        )
        .await,
        Err(DeploymentTestError::Confirmed(_))
    ));
    archive.stop().await;
}

#[tokio::test]
async fn an_administrator_defines_and_resets_a_test_from_the_web_and_no_one_else_can() {
    let archive = Archive::new().await;
    seed::administrator(&archive.pool, &card("999000110")).await;
    let (document, client) = archive.document_and_client(&archive.a).await;
    let a = archive.a.as_str();
    let admin = Session::start(&archive.app, "archivist-1").await;
    let archivist = Session::start(&archive.app, "archivist-2").await;

    let refused = archivist
        .post(
            "/api/admin/define-deployment-test",
            &format!("controller={a}&documents={document}&clients="),
        )
        .await;
    assert_eq!(refused.status, 404, "{}", refused.body);

    for (form, field) in [
        (
            format!("controller={a}&documents=not-an-oid&clients="),
            "document",
        ),
        (
            format!("controller={a}&documents=&clients=+"),
            "nothing_named",
        ),
        (
            format!("controller={NOBODYS_CONTROLLER}&documents={document}&clients="),
            "controller",
        ),
    ] {
        let response = admin.post("/api/admin/define-deployment-test", &form).await;
        assert_eq!(response.status, 422, "{form}");
        assert!(
            refusal(&response.body) == format!("invalid:{field}"),
            "{}",
            response.body
        );
    }
    let reset_first = admin
        .post(
            "/api/admin/reset-deployment-test",
            &format!("controller={a}&reason=why"),
        )
        .await;
    assert!(
        refusal(&reset_first.body) == "invalid:no_test",
        "{}",
        reset_first.body
    );

    let defined = admin
        .post(
            "/api/admin/define-deployment-test",
            &format!("controller={a}&documents={document}%0A{AWAITED}&clients={client}"),
        )
        .await;
    assert_eq!(defined.status, 200, "{}", defined.body);
    let view = tests_of(&admin).await;
    let oids: Vec<&str> = view[0]["test"]["documents"]
        .as_array()
        .expect("documents")
        .iter()
        .filter_map(|d| d["document_oid"].as_str())
        .collect();
    assert!(
        oids.contains(&AWAITED) && oids.contains(&document.as_str()),
        "{oids:?}"
    );

    let no_reason = admin
        .post(
            "/api/admin/reset-deployment-test",
            &format!("controller={a}&reason=+"),
        )
        .await;
    assert!(
        refusal(&no_reason.body) == "invalid:reason",
        "{}",
        no_reason.body
    );
    let reset = admin
        .post(
            "/api/admin/reset-deployment-test",
            &format!("controller={a}&reason=codes+were+wrong"),
        )
        .await;
    assert_eq!(reset.status, 200, "{}", reset.body);
    assert_eq!(tests_of(&admin).await[0]["test"]["round"], 2);

    let rows = archive.audit().await;
    let changes: Vec<(&str, Option<&str>)> = rows
        .iter()
        .filter(|r| r.0.starts_with("admin.deployment_test"))
        .map(|r| (r.0.as_str(), r.3.as_deref()))
        .collect();
    assert_eq!(
        changes,
        [
            ("admin.deployment_test_defined", Some("999000110")),
            ("admin.deployment_test_reset", Some("999000110")),
        ],
        "in the administrator's name, nothing for the refusals"
    );

    // A confirmed test's case is a conflict with its state, not invalid input.
    sqlx::query(
        "UPDATE deployment_test SET state = 'confirmed', confirmed_at = now(),
             confirmed_by_satu = 'x', confirmed_by_card = 'x', confirmed_certificate_sha256 = 'x'
         WHERE controller_oid = $1",
    )
    .bind(a)
    .execute(&archive.pool)
    .await
    .expect("confirm by hand");
    let redefined = admin
        .post(
            "/api/admin/define-deployment-test",
            &format!("controller={a}&documents={document}&clients="),
        )
        .await;
    assert_eq!(redefined.status, 409, "{}", redefined.body);
    assert!(
        refusal(&redefined.body) == "conflict:test_confirmed",
        "{}",
        redefined.body
    );
    archive.stop().await;
}
