//! `teachcam examples list|remove|relabel|reset`: fixing what was taught.

use super::{open_store, open_store_read_only};
use crate::config::Config;
use crate::store::{Entry, Store};
use crate::train::advice::plural;
use anyhow::{bail, Result};
use clap::Subcommand;
use std::io::{BufRead, IsTerminal, Write};

/// What to do with the stored examples.
#[derive(Debug, Subcommand)]
pub enum ExamplesCommand {
    /// List the stored examples: id, label, when added, where from.
    List {
        /// Only this label's examples.
        #[arg(long)]
        label: Option<String>,
        /// Print JSON: one object per example.
        #[arg(long)]
        json: bool,
    },
    /// Remove examples by id (all of them, or none if any id is unknown).
    Remove {
        /// Ids from `teachcam examples list`.
        #[arg(required = true, value_name = "ID")]
        ids: Vec<String>,
    },
    /// Give examples another label (all of them, or none if any id is unknown).
    Relabel {
        /// Ids from `teachcam examples list`.
        #[arg(required = true, value_name = "ID")]
        ids: Vec<String>,
        /// The label they really show.
        #[arg(long, value_name = "LABEL")]
        to: String,
    },
    /// Remove every example and the trained head: start over.
    Reset {
        /// Do not ask (needed when not on a terminal).
        #[arg(long)]
        yes: bool,
    },
}

/// One example in `examples list --json`.
#[derive(serde::Serialize)]
struct Row<'a> {
    id: &'a str,
    label: &'a str,
    /// Seconds since the Unix epoch.
    added: u64,
    /// `camera`, `recovered` or the imported file's path.
    origin: String,
}

/// Runs an `examples` subcommand.
pub fn run(config: &Config, cmd: &ExamplesCommand) -> Result<()> {
    match cmd {
        ExamplesCommand::List { label, json } => list(config, label.as_deref(), *json),
        ExamplesCommand::Remove { ids } => {
            let mut store = writable(config)?;
            let gone = store.remove_many(ids)?;
            println!("removed {}: {}", plural(gone.len(), "example"), describe(&gone));
            after_change(config, &store);
            Ok(())
        }
        ExamplesCommand::Relabel { ids, to } => {
            let mut store = writable(config)?;
            let was = store.relabel(ids, to)?;
            println!("relabelled {} as {to}: {}", plural(was.len(), "example"), describe(&was));
            after_change(config, &store);
            Ok(())
        }
        ExamplesCommand::Reset { yes } => reset(config, *yes),
    }
}

fn list(config: &Config, label: Option<&str>, json: bool) -> Result<()> {
    let store = open_store_read_only(config)?;
    let entries = store.list(label)?;
    if json {
        let rows: Vec<Row> = entries
            .iter()
            .map(|e| Row { id: &e.id, label: &e.label, added: e.added, origin: String::from(e.origin.clone()) })
            .collect();
        println!("{}", serde_json::to_string_pretty(&rows)?);
        return Ok(());
    }
    if entries.is_empty() {
        match label {
            Some(l) => println!("no examples of {l} in {}", config.data_dir.display()),
            None => println!("no examples in {}", config.data_dir.display()),
        }
        return Ok(());
    }
    let w = entries.iter().map(|e| e.label.len()).max().unwrap_or(5).max(5);
    println!("{:17}  {:w$}  {:19}  origin", "id", "label", "added (UTC)");
    for e in &entries {
        println!("{:17}  {:w$}  {:19}  {}", e.id, e.label, date(e.added), String::from(e.origin.clone()));
    }
    println!("{}", plural(entries.len(), "example"));
    Ok(())
}

/// `YYYY-MM-DD HH:MM:SS` (UTC) of a Unix time.
fn date(secs: u64) -> String {
    match jiff::Timestamp::from_second(secs as i64) {
        Ok(t) if secs > 0 => t.strftime("%Y-%m-%d %H:%M:%S").to_string(),
        _ => "unknown".into(),
    }
}

/// `ID (label)`, comma-separated.
fn describe(entries: &[Entry]) -> String {
    entries.iter().map(|e| format!("{} ({})", e.id, e.label)).collect::<Vec<_>>().join(", ")
}

/// Opens the store for a change, refusing when it is read-only or missing.
fn writable(config: &Config) -> Result<Store> {
    // A missing folder is not created just to find nothing in it.
    open_store_read_only(config)?;
    let store = open_store(config)?;
    if let Some(why) = store.read_only() {
        bail!("data folder {} cannot be written ({why}); nothing was changed", config.data_dir.display());
    }
    Ok(store)
}

/// Says what now stands per label, and that the head must be trained again.
fn after_change(config: &Config, store: &Store) {
    let counts: Vec<String> = store.counts().iter().map(|(l, n)| format!("{l} {n}")).collect();
    println!(
        "now {}: {}",
        plural(store.len(), "example"),
        if counts.is_empty() { "none".into() } else { counts.join(", ") }
    );
    if config.head_path().exists() {
        println!("the saved head still reflects the examples as they were: train again (`teachcam train`, or TRAIN)");
    }
}

fn reset(config: &Config, yes: bool) -> Result<()> {
    let mut store = writable(config)?;
    let head = config.head_path();
    if !yes {
        if !std::io::stdin().is_terminal() {
            bail!(
                "examples reset removes every example and the trained head; not on a terminal, so add --yes to confirm"
            );
        }
        let counts: Vec<String> = store.counts().iter().map(|(l, n)| format!("{l} {n}")).collect();
        print!(
            "remove all {} ({}) and the trained head from {}? type yes: ",
            plural(store.len(), "example"),
            counts.join(", "),
            config.data_dir.display()
        );
        std::io::stdout().flush()?;
        let mut answer = String::new();
        std::io::stdin().lock().read_line(&mut answer)?;
        if answer.trim() != "yes" {
            println!("nothing was changed");
            return Ok(());
        }
    }
    let n = store.reset()?;
    let head_removed = match std::fs::remove_file(&head) {
        Ok(()) => {
            crate::fsutil::sync_dir(&config.data_dir)
                .map_err(|e| anyhow::anyhow!("{}: {e}", config.data_dir.display()))?;
            true
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => false,
        Err(e) => bail!("removed {} but not the head {}: {e}", plural(n, "example"), head.display()),
    };
    println!(
        "removed {}{}; teach again, then train",
        plural(n, "example"),
        if head_removed { " and the trained head" } else { "" }
    );
    Ok(())
}
