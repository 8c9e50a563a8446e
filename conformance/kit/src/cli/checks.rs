//! `checks`: what the suite holds, by check or by trait method.

use std::process::ExitCode;

use super::{Family, print_json, usage_error};
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
    /// Families to list, comma-separated: storage, runtime, cache (default:
    /// all; `--method` and `--by-method` are storage's).
    #[arg(long, value_delimiter = ',')]
    family: Vec<String>,
    /// Print one JSON document on stdout.
    #[arg(long)]
    json: bool,
}

/// One listed check: family, name, verdict, methods (storage only), rule.
struct Row {
    family: Family,
    name: &'static str,
    area: &'static str,
    verdict: String,
    needs: Option<String>,
    methods: Vec<&'static str>,
    rule: &'static str,
}

/// Runs `checks`.
pub fn checks(args: ChecksArgs) -> ExitCode {
    if args.by_method {
        return by_method(args.json);
    }
    let families = if args.family.is_empty() || args.method.is_some() {
        if args.method.is_some() {
            vec![Family::Storage]
        } else {
            Family::ALL.to_vec()
        }
    } else {
        match args.family.iter().map(|f| Family::from_name(f)).collect() {
            Ok(f) => f,
            Err(e) => return usage_error(e),
        }
    };
    let storage = match args.method.as_deref().map(str::parse::<Method>).transpose() {
        Ok(Some(method)) => checks_covering(method),
        Ok(None) => all_checks(),
        Err(e) => return usage_error(e),
    };
    let mut rows: Vec<Row> = Vec::new();
    if families.contains(&Family::Storage) {
        rows.extend(storage.iter().map(|c| Row {
            family: Family::Storage,
            name: c.name,
            area: c.area,
            verdict: c.verdict.to_string(),
            needs: Some(format!("{:?}", c.needs)),
            methods: c.methods.iter().map(|m| m.name()).collect(),
            rule: c.rule,
        }));
    }
    if families.contains(&Family::Runtime) {
        rows.extend(crate::runtime::all_checks().iter().map(|c| Row {
            family: Family::Runtime,
            name: c.name,
            area: "Runtime",
            verdict: c.verdict.to_string(),
            needs: None,
            methods: Vec::new(),
            rule: c.rule,
        }));
    }
    if families.contains(&Family::Cache) {
        rows.extend(crate::cache::all_checks().iter().map(|c| Row {
            family: Family::Cache,
            name: c.name,
            area: "CacheStore",
            verdict: c.verdict.to_string(),
            needs: None,
            methods: Vec::new(),
            rule: c.rule,
        }));
    }
    #[cfg(feature = "net")]
    {
        if families.contains(&Family::Transport) {
            rows.extend(network_rows::<crate::transport::TransportUnderTest>(
                Family::Transport,
            ));
        }
        if families.contains(&Family::Http) {
            rows.extend(network_rows::<crate::http::HttpUnderTest>(Family::Http));
        }
    }
    if args.json {
        let rows: Vec<_> = rows
            .iter()
            .map(|c| {
                serde_json::json!({
                    "family": c.family.name(),
                    "check": c.name,
                    "area": c.area,
                    "verdict": c.verdict,
                    "needs": c.needs,
                    "methods": c.methods,
                    "rule": c.rule,
                })
            })
            .collect();
        print_json(&serde_json::json!({ "schema": SCHEMA, "checks": rows }));
    } else {
        for c in &rows {
            let what = if c.methods.is_empty() {
                c.verdict.clone()
            } else {
                c.methods.join(", ")
            };
            println!("{:<58} {what}", c.name);
        }
        eprintln!("{} checks", rows.len());
    }
    ExitCode::SUCCESS
}

#[cfg(feature = "net")]
fn network_rows<S: crate::net::Subject>(family: Family) -> Vec<Row> {
    S::checks()
        .iter()
        .map(|c| Row {
            family,
            name: c.name,
            area: S::AREA,
            verdict: c.verdict.to_string(),
            needs: c.needs_proxies.then(|| "proxies".to_owned()),
            methods: Vec::new(),
            rule: c.rule,
        })
        .collect()
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
