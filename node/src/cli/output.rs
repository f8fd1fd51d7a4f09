//! The client commands: call the API, print a table (or the JSON with `--json`).

use anyhow::Context;
use base64::Engine;
use comfy_table::presets::UTF8_BORDERS_ONLY;
use comfy_table::Table;
use serde::Serialize;

use p2p_api::{ApiClient, PublishRequest, Scope};

use super::{ClientArgs, InstallArgs, PublishArgs, SearchArgs};

fn client(args: &ClientArgs) -> anyhow::Result<ApiClient> {
    Ok(ApiClient::new(&args.node, args.api_token.clone())?)
}

fn print_json(value: &impl Serialize) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

fn ms(seconds: f64) -> String {
    format!("{:.1} ms", seconds * 1e3)
}

fn table(header: &[&str]) -> Table {
    let mut table = Table::new();
    table
        .load_preset(UTF8_BORDERS_ONLY)
        .set_header(header.to_vec());
    table
}

pub(super) async fn publish(args: PublishArgs) -> anyhow::Result<()> {
    let content = tokio::fs::read(&args.file)
        .await
        .with_context(|| format!("reading {}", args.file.display()))?;
    let request = PublishRequest {
        name: args.name,
        version: args.version,
        description: args.description,
        tags: args.tags,
        content_base64: base64::engine::general_purpose::STANDARD.encode(&content),
    };
    let outcome = client(&args.client)?.publish(&request).await?;
    if args.client.json {
        return print_json(&outcome);
    }
    let m = &outcome.package.manifest;
    println!(
        "published {} {} ({} bytes, sha256 {}) in {}",
        m.name,
        m.version,
        m.size,
        &m.sha256[..16],
        ms(outcome.duration_s)
    );
    let yes_no = |b: bool| if b { "yes" } else { "no" };
    println!(
        "dht record stored: {}, providing: {}, announced: {}",
        yes_no(outcome.dht_record_stored),
        yes_no(outcome.providing),
        yes_no(outcome.announced)
    );
    for warning in &outcome.warnings {
        println!("warning: {warning}");
    }
    Ok(())
}

pub(super) async fn search(args: SearchArgs) -> anyhow::Result<()> {
    let scope = if args.network {
        Scope::Network
    } else {
        Scope::Local
    };
    let outcome = client(&args.client)?
        .search(&args.query, scope, args.limit)
        .await?;
    if args.client.json {
        return print_json(&outcome);
    }
    let mut t = table(&["name", "version", "stored here", "score", "description"]);
    for hit in &outcome.hits {
        let m = &hit.package.manifest;
        t.add_row(vec![
            m.name.clone(),
            m.version.to_string(),
            if hit.local { "yes" } else { "no" }.to_owned(),
            format!("{:.0}", hit.score),
            m.description.chars().take(60).collect(),
        ]);
    }
    if !outcome.hits.is_empty() {
        println!("{t}");
    }
    let peers = if args.network {
        format!(
            ", {} of {} peers answered",
            outcome.peers_answered, outcome.peers_asked
        )
    } else {
        String::new()
    };
    println!(
        "{} result(s) for {:?} in {}{peers}",
        outcome.hits.len(),
        args.query,
        ms(outcome.duration_s)
    );
    Ok(())
}

pub(super) async fn install(args: InstallArgs) -> anyhow::Result<()> {
    let outcome = client(&args.client)?
        .install(&args.name, args.version.as_deref())
        .await?;
    if args.client.json {
        return print_json(&outcome);
    }
    let m = &outcome.package.manifest;
    match &outcome.provider {
        Some(provider) => println!(
            "installed {} {} ({} bytes, signature and sha256 verified) from {provider} in {}",
            m.name,
            m.version,
            m.size,
            ms(outcome.duration_s)
        ),
        None => println!("{} {} is already installed", m.name, m.version),
    }
    for rejected in &outcome.rejected {
        println!("rejected provider {rejected}");
    }
    Ok(())
}

pub(super) async fn status(args: ClientArgs) -> anyhow::Result<()> {
    let status = client(&args)?.status().await?;
    if args.json {
        return print_json(&status);
    }
    let mut t = Table::new();
    t.load_preset(UTF8_BORDERS_ONLY);
    let n = &status.network;
    t.add_row(vec!["peer id".to_owned(), n.peer_id.clone()]);
    t.add_row(vec![
        "listen addresses".to_owned(),
        n.listen_addrs.join("\n"),
    ]);
    t.add_row(vec![
        "connected peers".to_owned(),
        n.connected_peers.to_string(),
    ]);
    t.add_row(vec!["connections".to_owned(), n.connections.to_string()]);
    t.add_row(vec![
        "routing table".to_owned(),
        n.routing_table_size.to_string(),
    ]);
    t.add_row(vec![
        "gossip mesh peers".to_owned(),
        n.gossip_mesh_peers.to_string(),
    ]);
    t.add_row(vec![
        "packages stored".to_owned(),
        status.packages_stored.to_string(),
    ]);
    t.add_row(vec![
        "packages known".to_owned(),
        status.packages_known.to_string(),
    ]);
    println!("{t}");
    Ok(())
}
