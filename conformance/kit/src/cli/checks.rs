//! `checks`: what the suite holds, by check or by trait method.

use std::process::ExitCode;

use super::{print_json, usage_error};
use crate::storage::{Method, all_checks, checks_covering};

/// The `checks` JSON document's schema (see `docs/CLI.md`).
pub const SCHEMA: &str = "whatsapp-rust-conformance/checks/v1";

/// Arguments of `checks`.
#[derive(clap::Args)]
pub struct ChecksArgs {
    /// Only the checks that call this trait method (e.g. `put_mutation_macs`).
    #[arg(long)]
    method: Option<String>,
    /// Every trait method with the checks that call it, instead of every check.
    #[arg(long, conflicts_with = "method")]
    by_method: bool,
    /// Print one JSON document on stdout.
    #[arg(long)]
    json: bool,
}

/// Runs `checks`.
pub fn checks(args: ChecksArgs) -> ExitCode {
    if args.by_method {
        return by_method(args.json);
    }
    let checks = match args.method.as_deref().map(str::parse::<Method>).transpose() {
        Ok(Some(method)) => checks_covering(method),
        Ok(None) => all_checks(),
        Err(e) => return usage_error(e),
    };
    if args.json {
        let rows: Vec<_> = checks
            .iter()
            .map(|c| {
                serde_json::json!({
                    "check": c.name,
                    "area": c.area,
                    "verdict": c.verdict.to_string(),
                    "needs": format!("{:?}", c.needs),
                    "methods": c.methods.iter().map(|m| m.name()).collect::<Vec<_>>(),
                    "rule": c.rule,
                })
            })
            .collect();
        print_json(&serde_json::json!({ "schema": SCHEMA, "checks": rows }));
    } else {
        for c in &checks {
            let methods: Vec<_> = c.methods.iter().map(|m| m.name()).collect();
            println!("{:<58} {}", c.name, methods.join(", "));
        }
        eprintln!("{} checks", checks.len());
    }
    ExitCode::SUCCESS
}

fn by_method(json: bool) -> ExitCode {
    let rows: Vec<(Method, Vec<&'static str>)> = Method::ALL
        .iter()
        .map(|&m| (m, checks_covering(m).iter().map(|c| c.name).collect()))
        .collect();
    if json {
        let rows: Vec<_> = rows
            .iter()
            .map(|(m, checks)| {
                serde_json::json!({ "method": m.name(), "trait": m.trait_name(), "checks": checks })
            })
            .collect();
        print_json(&serde_json::json!({ "schema": SCHEMA, "methods": rows }));
    } else {
        for (m, checks) in &rows {
            println!(
                "{:<34} {:>2}  {}",
                m.name(),
                checks.len(),
                checks.join(", ")
            );
        }
    }
    ExitCode::SUCCESS
}
