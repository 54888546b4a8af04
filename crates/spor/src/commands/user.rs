//! `spor user add | list | disable | set-password | reset-mfa`: the accounts
//! people log in to the server with (contract §4).
//!
//! A password is made here only as a one-time password: printed once on
//! standard output and nowhere else, and the account must change it at its
//! next login. Only its argon2id hash is stored; no listing shows the hash.

use std::io::{self, Write};

use chrono::{SubsecRound, Utc};
use comfy_table::Table;
use serde::Serialize;
use spor_accounts::{
    Account, AccountName, NewAccount, PasswordSetBy, Role, SecondFactor, ShownOnce, hash_password,
    one_time_password,
};
use spor_domain::UnitCode;

use super::Access;
use crate::output::{ListFormat, print_secret};
use crate::workspace::Workspace;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: UserCommand,
}

#[derive(Debug, clap::Subcommand)]
enum UserCommand {
    /// Make an account and print its one-time password (only that, on
    /// standard output).
    ///
    /// The account logs in once with it, must then choose its own password,
    /// and sets up its second factor at that first browser login. Adviser
    /// and leader accounts need one or more --unit; analyst and admin
    /// accounts take none. Creates the data directory if it does not exist
    /// yet, so accounts can be made before the first import.
    Add(AddArgs),
    /// List the accounts: role, units, disabled, second factor, and whether
    /// the password must be changed. Never a password hash.
    List(ListArgs),
    /// Disable an account: no login and none of its tokens is accepted any
    /// more. Accounts are never deleted, so audit entries keep naming a known
    /// account.
    Disable(NameArg),
    /// Give an account a new one-time password and print it (only that, on
    /// standard output); the account must change it at its next login.
    SetPassword(NameArg),
    /// Remove an account's second factor; it sets up a new one at its next
    /// login.
    ResetMfa(NameArg),
}

#[derive(Debug, clap::Args)]
struct AddArgs {
    /// The account name: 1 to 64 characters of a-z, 0-9, '.', '_' and '-'.
    name: AccountName,
    /// adviser, leader, analyst or admin.
    #[arg(long)]
    role: Role,
    /// A unit the account works with (municipality or Oslo ward number);
    /// repeat for more. Required for adviser and leader, refused for
    /// analyst and admin.
    #[arg(long = "unit", value_name = "U")]
    units: Vec<UnitCode>,
}

#[derive(Debug, clap::Args)]
struct ListArgs {
    #[arg(long, value_enum, default_value = "table")]
    format: ListFormat,
}

#[derive(Debug, clap::Args)]
struct NameArg {
    /// The account name.
    name: AccountName,
}

pub fn run(args: Args, ws: &mut Workspace) -> anyhow::Result<()> {
    match args.command {
        UserCommand::Add(a) => add(a, ws),
        UserCommand::List(a) => list(&a, ws),
        UserCommand::Disable(a) => {
            change(&a.name, ws, &mut |account| account.disable())?;
            writeln!(
                ws.err,
                "disabled account `{}`: no login and none of its tokens is accepted any more",
                a.name
            )?;
            Ok(())
        }
        UserCommand::SetPassword(a) => set_password(&a.name, ws),
        UserCommand::ResetMfa(a) => {
            change(&a.name, ws, &mut |account| account.reset_second_factor())?;
            writeln!(
                ws.err,
                "removed the second factor of `{}`: it sets up a new one at its next login",
                a.name
            )?;
            Ok(())
        }
    }
}

fn add(args: AddArgs, ws: &mut Workspace) -> anyhow::Result<()> {
    let password = new_password()?;
    // The role's unit rule is checked here, before the store is opened, so
    // that a refused account leaves no new data directory behind.
    let account = Account::new(NewAccount {
        name: args.name,
        role: args.role,
        units: args.units,
        password: hash_password(password.expose()),
        created_at: Utc::now().trunc_subsecs(0),
    })?;
    ws.accounts(Access::Existing)?.create(&account)?;
    print_secret(&password, &mut ws.out)?;
    writeln!(
        ws.err,
        "made account `{}` ({}); the password above works once and must then be changed",
        account.name(),
        account.role()
    )?;
    Ok(())
}

/// One account as `user list --format json` shows it.
#[derive(Serialize)]
struct Listed<'a> {
    name: &'a str,
    role: Role,
    units: &'a [UnitCode],
    disabled: bool,
    /// `none`, `pending` (shown but never confirmed) or `enrolled`.
    second_factor: &'static str,
    must_change_password: bool,
    created_at: String,
}

impl<'a> Listed<'a> {
    fn of(account: &'a Account) -> Self {
        Self {
            name: account.name().as_str(),
            role: account.role(),
            units: account.units(),
            disabled: account.is_disabled(),
            second_factor: match account.second_factor() {
                SecondFactor::None => "none",
                SecondFactor::Pending { .. } => "pending",
                SecondFactor::Enrolled { .. } => "enrolled",
            },
            must_change_password: account.must_change_password(),
            created_at: spor_domain::wire::format_time(account.created_at()),
        }
    }
}

fn list(args: &ListArgs, ws: &mut Workspace) -> anyhow::Result<()> {
    let accounts = ws.accounts(Access::Existing)?.accounts()?;
    let listed: Vec<Listed<'_>> = accounts.iter().map(Listed::of).collect();
    let mut out = io::BufWriter::new(&mut ws.out);
    match args.format {
        ListFormat::Json => {
            serde_json::to_writer(&mut out, &serde_json::json!({ "accounts": listed }))?;
            writeln!(out)?;
        }
        ListFormat::Table => {
            let mut table = Table::new();
            table.load_style(comfy_table::presets::UTF8_FULL_CONDENSED);
            table.set_header([
                "name",
                "role",
                "units",
                "disabled",
                "second factor",
                "must change password",
                "created",
            ]);
            for a in &listed {
                let units: Vec<String> = a.units.iter().map(ToString::to_string).collect();
                table.add_row([
                    a.name.to_owned(),
                    a.role.to_string(),
                    units.join(" "),
                    yes_no(a.disabled).to_owned(),
                    a.second_factor.to_owned(),
                    yes_no(a.must_change_password).to_owned(),
                    a.created_at.clone(),
                ]);
            }
            writeln!(out, "{table}")?;
            writeln!(out, "{} account(s)", listed.len())?;
        }
    }
    out.flush()?;
    Ok(())
}

fn set_password(name: &AccountName, ws: &mut Workspace) -> anyhow::Result<()> {
    let accounts = ws.accounts(Access::Existing)?;
    // Look first, so that a wrong name costs no hashing.
    if accounts.account(name)?.is_none() {
        return Err(spor_accounts::AccountError::NoSuchAccount { name: name.clone() }.into());
    }
    let password = new_password()?;
    let hash = hash_password(password.expose());
    accounts.update(name, &mut |account| {
        account.set_password(hash.clone(), PasswordSetBy::Operator);
        Ok(())
    })?;
    print_secret(&password, &mut ws.out)?;
    writeln!(
        ws.err,
        "`{name}` has a new one-time password (above); it must be changed at the next login"
    )?;
    Ok(())
}

/// Applies `change` to the account `name` and stores it.
fn change(
    name: &AccountName,
    ws: &mut Workspace,
    edit: &mut dyn FnMut(&mut Account),
) -> anyhow::Result<()> {
    ws.accounts(Access::Existing)?
        .update(name, &mut |account| {
            edit(account);
            Ok(())
        })?;
    Ok(())
}

/// A one-time password from a generator seeded by the operating system.
fn new_password() -> anyhow::Result<ShownOnce> {
    Ok(one_time_password(&mut super::os_seeded_rng()?))
}

fn yes_no(b: bool) -> &'static str {
    if b { "yes" } else { "no" }
}
