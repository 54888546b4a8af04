//! Starting a server over a temporary data directory, with one account per
//! role (an adviser and a leader in unit 0301, a second adviser in 1201),
//! and making events.
#![allow(dead_code)]

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{NaiveDate, TimeZone, Utc};
use serde_json::{Value, json};
use spor_accounts::{
    AccountName, AccountStore, NewAccount, Role, SledAccounts, TokenRequest, issue_token,
};
use spor_domain::person::{SyntheticIds, make_fodselsnummer};
use spor_domain::{Policy, UnitCode};
use spor_projections::reminders::ReminderRules;
use spor_server::{App, ServerSettings, Stores};
use spor_shell::{FixedClock, Ingest, Silent};
use spor_store::{AuditLog, AuditTrail, EventStore, OpenOptions, RealDisk, SledStore};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

pub const OWN: &str = "0301";
pub const OTHER: &str = "1201";

/// A running server and what a test needs to talk to it.
pub struct Server {
    pub base: String,
    pub client: reqwest::Client,
    pub tokens: HashMap<&'static str, String>,
    pub audit: Arc<dyn AuditTrail>,
    pub store: Arc<SledStore>,
    pub accounts: Arc<SledAccounts>,
    /// The data directory.
    pub data: std::path::PathBuf,
    shutdown: CancellationToken,
    task: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
    _dir: tempfile::TempDir,
}

/// Which audit trail the server writes to.
pub enum Trail {
    Real,
    Failing,
}

/// An audit trail whose every write fails, as a full or broken disk would.
pub struct FailingTrail;

impl AuditTrail for FailingTrail {
    fn record(&self, _: &spor_store::AuditEntry) -> Result<(), spor_store::StoreError> {
        Err(spor_store::StoreError::Stopped(
            "injected audit failure".into(),
        ))
    }

    fn entries(
        &self,
        _: &mut dyn FnMut(spor_store::AuditEntry),
    ) -> Result<(), spor_store::StoreError> {
        Ok(())
    }
}

pub async fn start(lines: &[String]) -> Server {
    start_with(lines, Trail::Real).await
}

pub async fn start_with(lines: &[String], trail: Trail) -> Server {
    start_configured(lines, trail, |_| {}).await
}

/// A server whose settings `tweak` has changed from the tests' defaults.
pub async fn start_configured(
    lines: &[String],
    trail: Trail,
    tweak: impl FnOnce(&mut ServerSettings),
) -> Server {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(
        SledStore::open(
            &dir.path().join("data"),
            OpenOptions {
                create: true,
                ..OpenOptions::default()
            },
        )
        .unwrap(),
    );
    let policy = Policy {
        synthetic_ids: SyntheticIds::Allowed,
    };
    let ingest = Ingest {
        store: store.as_ref(),
        policy,
        now: Utc.with_ymd_and_hms(2009, 1, 1, 0, 0, 0).unwrap(),
        batch_events: 1000,
        input_len: None,
        progress: &Silent,
        scope: None,
        by: None,
    };
    ingest.lines(lines.join("\n").as_bytes()).unwrap();
    let accounts = Arc::new(SledAccounts::open(store.sled()).unwrap());
    let now = Utc::now();
    let mut rng = rand::rngs::StdRng::from_os_rng_checked();
    let mut tokens = HashMap::new();
    // One hash for all: argon2 is slow on purpose, and these never log in.
    let hash = spor_accounts::hash_password("never used to log in here");
    for (key, role, units) in [
        ("adviser", Role::Adviser, vec![OWN]),
        ("other-adviser", Role::Adviser, vec![OTHER]),
        ("leader", Role::Leader, vec![OWN]),
        ("analyst", Role::Analyst, vec![]),
        ("admin", Role::Admin, vec![]),
    ] {
        let name = AccountName::parse(key).unwrap();
        let units = units
            .into_iter()
            .map(|u| UnitCode::parse(u).unwrap())
            .collect();
        let account = spor_accounts::Account::new(NewAccount {
            name: name.clone(),
            role,
            units,
            password: hash.clone(),
            created_at: now,
        })
        .unwrap();
        accounts.create(&account).unwrap();
        let issued = issue_token(TokenRequest::new(name), now, &mut rng).unwrap();
        accounts.insert_token(&issued.record).unwrap();
        tokens.insert(key, issued.token.expose().to_owned());
    }
    let audit: Arc<dyn AuditTrail> = match trail {
        Trail::Real => {
            Arc::new(AuditLog::open(&dir.path().join("data"), Box::new(RealDisk)).unwrap())
        }
        Trail::Failing => Arc::new(FailingTrail),
    };
    let mut settings = ServerSettings {
        policy,
        reminders: ReminderRules::default(),
        within_days: 14,
        suppress_up_to: 4,
        lint_limits: spor_projections::lint::LintLimits {
            stale_days: 90,
            late_exit_days: 60,
        },
        view_day: Some(NaiveDate::from_ymd_opt(2008, 6, 1).unwrap()),
        import_limit_bytes: 1024 * 1024,
        import_batch_events: 1000,
        request_timeout: Duration::from_secs(30),
        trusted_origins: Vec::new(),
        trusted_proxies: Vec::new(),
        login_limits: spor_server::LoginLimits::default(),
        password_policy: spor_accounts::PasswordPolicy::default(),
        session_idle: Duration::from_secs(1800),
        stream_recheck: Duration::from_millis(200),
    };
    tweak(&mut settings);
    let shutdown = CancellationToken::new();
    let sessions =
        spor_server::Sessions::new(spor_server::SledSessions::open(store.sled()).unwrap());
    let stores = Stores {
        events: Arc::clone(&store) as Arc<dyn EventStore>,
        accounts: Arc::clone(&accounts) as Arc<dyn AccountStore>,
        audit: Arc::clone(&audit),
        sessions,
        publications: dir.path().join("data"),
    };
    let clock = Arc::new(FixedClock(
        Utc.with_ymd_and_hms(2009, 1, 2, 8, 0, 0).unwrap(),
    ));
    let app = Arc::new(App::new(stores, settings, clock, shutdown.clone()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let task = tokio::spawn(spor_server::serve(app, listener, shutdown.clone()));
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap();
    let server = Server {
        base,
        client,
        tokens,
        audit,
        store,
        accounts,
        data: dir.path().join("data"),
        shutdown,
        task: Some(task),
        _dir: dir,
    };
    for _ in 0..200 {
        if server
            .client
            .get(server.url("/readyz"))
            .send()
            .await
            .is_ok_and(|r| r.status() == 200)
        {
            return server;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("the server did not get ready");
}

impl Server {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn get(&self, who: &str, path: &str) -> (u16, Value) {
        let r = self
            .client
            .get(self.url(path))
            .bearer_auth(&self.tokens[who])
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    pub async fn post(&self, who: &str, path: &str, body: &Value) -> (u16, Value) {
        let r = self
            .client
            .post(self.url(path))
            .bearer_auth(&self.tokens[who])
            .json(body)
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    /// Every audit entry so far.
    pub fn audit_entries(&self) -> Vec<spor_store::AuditEntry> {
        let mut all = Vec::new();
        self.audit.entries(&mut |e| all.push(e)).unwrap();
        all
    }

    pub async fn stop(mut self) {
        self.shutdown.cancel();
        if let Some(task) = self.task.take() {
            tokio::time::timeout(Duration::from_secs(10), task)
                .await
                .expect("shutdown within 10 s")
                .unwrap()
                .unwrap();
        }
    }
}

/// Event lines of one participant, from registration to start.
pub struct Person {
    pub id: Uuid,
    pub unit: &'static str,
    pub lines: Vec<String>,
}

impl Person {
    pub fn started(n: u32, unit: &'static str) -> Self {
        let id = Uuid::from_u128(0xA000_0000_0000_0000_0000_0000_0000_0000 + u128::from(n));
        let birth = NaiveDate::from_ymd_opt(1980, 1 + n % 12, 1 + n % 28).unwrap();
        let person = (0..1000)
            .find_map(|i| make_fodselsnummer(birth, i, 80))
            .unwrap();
        let mut p = Self {
            id,
            unit,
            lines: Vec::new(),
        };
        p.push(
            "registered",
            "2006-01-02",
            json!({"person": person, "basis": "resettlement"}),
        );
        p.push("claimed", "2006-01-03", json!({}));
        p.push("granted", "2006-01-10", json!({"months": 24}));
        p.push("started", "2006-02-01", json!({}));
        p
    }

    pub fn push(&mut self, kind: &str, date: &str, data: Value) {
        self.lines.push(self.event(kind, date, data).to_string());
    }

    /// An event of this participant as a request body (no `by`, no `recorded_at`).
    pub fn event(&self, kind: &str, date: &str, data: Value) -> Value {
        json!({"id": Uuid::new_v4(), "participant": self.id, "unit": self.unit, "type": kind, "date": date, "data": data})
    }
}

trait FromOsRng {
    fn from_os_rng_checked() -> Self;
}

impl FromOsRng for rand::rngs::StdRng {
    fn from_os_rng_checked() -> Self {
        <Self as rand::SeedableRng>::try_from_os_rng().unwrap()
    }
}
