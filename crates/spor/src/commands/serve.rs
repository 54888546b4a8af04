//! `spor serve`: the HTTP API (contract §4) in the foreground until SIGTERM
//! or Ctrl-C. Its first line on standard output is `listening on
//! http://ADDR` (`https://` when `[server]` names a TLS certificate and
//! key), with the address actually bound.

use std::io::Write;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use chrono::NaiveDate;
use spor_accounts::{
    AccountName, AccountStore, IssuedToken, NewAccount, Role, SledAccounts, TokenRequest,
    hash_password, issue_token, one_time_password,
};
use spor_demo::DemoSpec;
use spor_domain::person::SyntheticIds;
use spor_domain::wire::Draft;
use spor_domain::{Policy, UnitCode};
use spor_server::{App, ServerSettings, Sessions, SledSessions, Stores};
use spor_shell::{Clock, Ingest, IngestError, Silent, SystemClock};
use spor_store::{AuditLog, EventStore, RealDisk};
use tokio_util::sync::CancellationToken;

use super::{Access, open_store};
use crate::settings::{ConfigError, Settings};
use crate::workspace::Held;

/// The day views are taken on with `--demo`: a Monday in the demo's last
/// year, so that reminders, leaves and exits are under way.
const DEMO_TODAY: NaiveDate = match NaiveDate::from_ymd_opt(2008, 12, 1) {
    Some(d) => d,
    None => panic!("a valid date"),
};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The address to listen on (default: `server.listen` of the
    /// configuration, 127.0.0.1:8080). Port 0 takes a free port; the first
    /// line printed names it.
    #[arg(long, value_name = "ADDR")]
    listen: Option<SocketAddr>,
    /// On an empty or missing directory, first write the demo log and one
    /// account per role, and print their logins. Views are then taken on
    /// 01.12.2008, inside the demo's years; writes keep the real clock.
    #[arg(long)]
    demo: bool,
}

pub fn run(args: Args, data: &Path, settings: &Settings) -> anyhow::Result<()> {
    crate::relay::refuse_if_served(data)?;
    let listen = args.listen.unwrap_or(settings.server.listen);
    // The TLS files are read and checked before anything is bound or written.
    let tls = match settings.server.tls()? {
        Some(files) => Some(
            spor_server::TlsConfig::from_pem_files(&files.certificate, &files.key)
                .map_err(|e| ConfigError(e.to_string()))?,
        ),
        None => None,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    // Bound first: a taken port leaves nothing written behind.
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind(listen))
        .with_context(|| format!("listening on {listen}"))?;
    let bound = listener.local_addr()?;
    let (listener, scheme): (spor_server::Listen, _) = match tls {
        Some(tls) => (spor_server::TlsListener::new(listener, tls).into(), "https"),
        None => (listener.into(), "http"),
    };
    let fresh = args.demo && !data.join("spor.log").exists();
    let store = Arc::new(open_store(data, settings, Access::CreateIfMissing)?);
    let accounts: Arc<dyn AccountStore> =
        Arc::new(SledAccounts::open(store.sled()).context("opening the accounts")?);
    let audit =
        Arc::new(AuditLog::open(data, Box::new(RealDisk)).context("opening the audit trail")?);
    let sessions = SledSessions::open(store.sled()).context("opening the browser sessions")?;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let server = ServerSettings {
        policy: settings.policy(),
        reminders: settings.reminders.rules(),
        within_days: settings.reminders.within_days,
        suppress_up_to: settings.survey.suppress_up_to,
        lint_limits: settings.lint.limits(),
        view_day: args.demo.then_some(DEMO_TODAY),
        import_limit_bytes: settings.server.import_limit_mb.saturating_mul(1024 * 1024),
        import_batch_events: settings.import.batch_events,
        request_timeout: Duration::from_secs(settings.server.request_timeout_seconds.max(1)),
        trusted_origins: settings.server.trusted_origins.clone(),
        trusted_proxies: settings.server.trusted_proxies.clone(),
        login_limits: settings.login.limits(),
        password_policy: settings.login.password_policy(),
        session_idle: Duration::from_secs(settings.login.session_idle_minutes.saturating_mul(60)),
        stream_recheck: Duration::from_secs(60),
    };
    // Bound before the first line, so that a command run once it is printed finds it.
    let commands = crate::relay::bind(data);
    let mut out = std::io::stdout().lock();
    writeln!(out, "listening on {scheme}://{bound}")?;
    out.flush()?;
    if fresh {
        for line in write_demo(store.as_ref(), accounts.as_ref(), clock.as_ref(), settings)? {
            writeln!(out, "{line}")?;
        }
        out.flush()?;
    }
    drop(out);
    tracing::info!(address = %bound, "serving");
    let shutdown = CancellationToken::new();
    let served = runtime.block_on(async {
        spor_server::cancel_on_signals(shutdown.clone())?;
        tokio::spawn(spor_server::remove_expired_sessions(
            sessions.clone(),
            shutdown.clone(),
        ));
        // Lent to the commands other `spor` processes send (relay.rs).
        let lent = (
            Arc::clone(&store),
            Arc::clone(&accounts),
            Arc::clone(&audit),
        );
        let stores = Stores {
            events: store,
            accounts,
            audit,
            sessions: Sessions::new(sessions),
            publications: data.to_path_buf(),
        };
        let app = Arc::new(App::new(stores, server, clock, shutdown.clone()));
        let held = Held {
            store: lent.0,
            accounts: lent.1,
            audit: lent.2,
            app: Arc::clone(&app),
        };
        let relayed = tokio::spawn(crate::relay::serve(commands, held, shutdown.clone()));
        let served = spor_server::serve(app, listener, shutdown.clone())
            .await
            .context("serving");
        // Commands under way finish; then the socket is removed.
        shutdown.cancel();
        let _ = relayed.await;
        served
    });
    // A projection rebuild still running is not waited for.
    runtime.shutdown_timeout(Duration::from_secs(1));
    served
}

/// The demo log and one account per role; returns the lines to print.
fn write_demo(
    store: &dyn EventStore,
    accounts: &dyn AccountStore,
    clock: &dyn Clock,
    settings: &Settings,
) -> anyhow::Result<Vec<String>> {
    let ingest = Ingest {
        store,
        // The demo writes only synthetic identity numbers (month + 80).
        policy: Policy {
            synthetic_ids: SyntheticIds::Allowed,
        },
        now: spor_demo::RECORDED_BEFORE,
        batch_events: settings.import.batch_events,
        input_len: None,
        progress: &Silent,
        scope: None,
        by: None,
    };
    let spec = DemoSpec {
        participants: 500,
        seed: 2007,
    };
    match ingest.drafts(spor_demo::stream(&spec).map(Draft::from)) {
        Ok(_) => {}
        Err(IngestError::Refused(errors)) => anyhow::bail!(
            "the demo log was refused: {:?}",
            errors.first().map(|e| e.problem.to_string())
        ),
        Err(IngestError::Store(e)) => return Err(e).context("writing the demo log"),
        Err(IngestError::Read(e)) => return Err(e.into()),
    }
    let unit = |s: &str| UnitCode::parse(s).context("a demo unit");
    let people = [
        (Role::Adviser, "veileder", vec![unit("030101")?]),
        (
            Role::Leader,
            "leder",
            vec![unit("030101")?, unit("030102")?],
        ),
        (Role::Analyst, "analytiker", vec![]),
        (Role::Admin, "admin", vec![]),
    ];
    let mut rng = super::os_seeded_rng()?;
    let mut lines = Vec::new();
    let mut tokens = Vec::new();
    for (role, name, units) in people {
        let password = one_time_password(&mut rng);
        let name = AccountName::parse(name)?;
        let account = spor_accounts::Account::new(NewAccount {
            name: name.clone(),
            role,
            units: units.clone(),
            password: hash_password(password.expose()),
            created_at: clock.now(),
        })?;
        accounts.create(&account)?;
        let IssuedToken { token, record } =
            issue_token(TokenRequest::new(name.clone()), clock.now(), &mut rng)?;
        accounts.insert_token(&record)?;
        let units: Vec<String> = units.iter().map(ToString::to_string).collect();
        lines.push(
            format!(
                "demo login: {} {name} {} {}",
                role.as_str(),
                password.expose(),
                units.join(",")
            )
            .trim_end()
            .to_owned(),
        );
        tokens.push(format!(
            "demo token: {} {name} {}",
            role.as_str(),
            token.expose()
        ));
    }
    lines.extend(tokens);
    Ok(lines)
}
