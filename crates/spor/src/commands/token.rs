//! `spor token create | list | revoke`: bearer tokens for scripts (contract
//! §4). A token acts as its account, with the account's role and units.
//!
//! The token `spor_ID_SECRET` is printed once by `create` and nowhere else;
//! only its SHA-256 is stored. `list` shows the ID, never the secret or the
//! hash; `revoke` takes the ID or the whole token.

use std::io::{self, Write};

use chrono::{DateTime, SubsecRound, Utc};
use comfy_table::Table;
use serde::Serialize;
use spor_accounts::{
    AccountError, AccountName, DEFAULT_TOKEN_LIFETIME_DAYS, TokenId, TokenRecord, TokenRequest,
    issue_token,
};
use spor_domain::wire::format_time;

use super::Access;
use crate::output::{ListFormat, print_secret};
use crate::workspace::Workspace;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: TokenCommand,
}

#[derive(Debug, clap::Subcommand)]
enum TokenCommand {
    /// Make a token for an account and print it (only that, on standard
    /// output, once): spor_ID_SECRET. Scripts send it as
    /// `Authorization: Bearer spor_ID_SECRET`.
    Create(CreateArgs),
    /// List tokens (of one account, or all): id, account, label, created,
    /// expires, revoked. Never the secret or its hash.
    List(ListArgs),
    /// Revoke a token, given its id (as `token list` shows it) or the whole
    /// token. Revoking it again keeps the first time.
    Revoke(RevokeArgs),
}

#[derive(Debug, clap::Args)]
struct CreateArgs {
    /// The account the token acts as.
    name: AccountName,
    /// Free text to tell tokens apart in `token list` (at most 100
    /// characters, no control characters).
    #[arg(long, value_name = "TEXT", default_value = "")]
    label: String,
    /// Days until the token expires: 1 to 366.
    #[arg(long, value_name = "DAYS", default_value_t = DEFAULT_TOKEN_LIFETIME_DAYS)]
    expires: u32,
}

#[derive(Debug, clap::Args)]
struct ListArgs {
    /// Only this account's tokens.
    name: Option<AccountName>,
    #[arg(long, value_enum, default_value = "table")]
    format: ListFormat,
}

#[derive(Debug, clap::Args)]
struct RevokeArgs {
    /// The token's id (12 hex digits) or the whole token.
    #[arg(value_name = "TOKEN_OR_ID")]
    token_or_id: String,
}

pub fn run(args: Args, ws: &mut Workspace) -> anyhow::Result<()> {
    match args.command {
        TokenCommand::Create(a) => create(a, ws),
        TokenCommand::List(a) => list(&a, ws),
        TokenCommand::Revoke(a) => revoke(&a, ws),
    }
}

fn create(args: CreateArgs, ws: &mut Workspace) -> anyhow::Result<()> {
    let accounts = ws.accounts(Access::Existing)?;
    let account = accounts
        .account(&args.name)?
        .ok_or_else(|| AccountError::NoSuchAccount {
            name: args.name.clone(),
        })?;
    account.ensure_enabled()?;
    let request = TokenRequest {
        account: args.name,
        label: args.label,
        lifetime_days: args.expires,
    };
    let issued = issue_token(
        request,
        Utc::now().trunc_subsecs(0),
        &mut super::os_seeded_rng()?,
    )?;
    accounts.insert_token(&issued.record)?;
    print_secret(&issued.token, &mut ws.out)?;
    writeln!(
        ws.err,
        "made token {} for `{}`, expiring {}; it is shown only this once",
        issued.record.id,
        issued.record.account,
        format_time(issued.record.expires_at)
    )?;
    Ok(())
}

/// One token as `token list --format json` shows it.
#[derive(Serialize)]
struct Listed<'a> {
    id: TokenId,
    account: &'a AccountName,
    label: &'a str,
    created_at: String,
    expires_at: String,
    revoked_at: Option<String>,
}

impl<'a> Listed<'a> {
    fn of(t: &'a TokenRecord) -> Self {
        Self {
            id: t.id,
            account: &t.account,
            label: &t.label,
            created_at: format_time(t.created_at),
            expires_at: format_time(t.expires_at),
            revoked_at: t.revoked_at.map(format_time),
        }
    }
}

fn list(args: &ListArgs, ws: &mut Workspace) -> anyhow::Result<()> {
    let accounts = ws.accounts(Access::Existing)?;
    if let Some(name) = &args.name
        && accounts.account(name)?.is_none()
    {
        return Err(AccountError::NoSuchAccount { name: name.clone() }.into());
    }
    let tokens = accounts.tokens(args.name.as_ref())?;
    let listed: Vec<Listed<'_>> = tokens.iter().map(Listed::of).collect();
    let mut out = io::BufWriter::new(&mut ws.out);
    match args.format {
        ListFormat::Json => {
            serde_json::to_writer(&mut out, &serde_json::json!({ "tokens": listed }))?;
            writeln!(out)?;
        }
        ListFormat::Table => {
            let now = Utc::now();
            let mut table = Table::new();
            table.load_style(comfy_table::presets::UTF8_FULL_CONDENSED);
            table.set_header(["id", "account", "label", "created", "expires", "revoked"]);
            for (t, l) in tokens.iter().zip(&listed) {
                table.add_row([
                    l.id.to_string(),
                    l.account.to_string(),
                    l.label.to_owned(),
                    l.created_at.clone(),
                    expiry(t.expires_at, now, &l.expires_at),
                    l.revoked_at.clone().unwrap_or_default(),
                ]);
            }
            writeln!(out, "{table}")?;
            writeln!(out, "{} token(s)", listed.len())?;
        }
    }
    out.flush()?;
    Ok(())
}

/// The expiry time, marked when it has passed.
fn expiry(at: DateTime<Utc>, now: DateTime<Utc>, shown: &str) -> String {
    if at <= now {
        format!("{shown} (expired)")
    } else {
        shown.to_owned()
    }
}

fn revoke(args: &RevokeArgs, ws: &mut Workspace) -> anyhow::Result<()> {
    // The id only: a whole token's secret is neither checked nor kept.
    let id = TokenId::from_id_or_token(args.token_or_id.trim())?;
    let accounts = ws.accounts(Access::Existing)?;
    // The store's lock keeps other writers out between this look and the revoke.
    let before = accounts
        .token(&id)?
        .ok_or(AccountError::NoSuchToken { id })?;
    let record = accounts.revoke_token(&id, Utc::now().trunc_subsecs(0))?;
    match before.revoked_at {
        Some(at) => writeln!(
            ws.err,
            "token {id} of `{}` was already revoked at {}",
            record.account,
            format_time(at)
        )?,
        None => writeln!(ws.err, "revoked token {id} of `{}`", record.account)?,
    }
    Ok(())
}
