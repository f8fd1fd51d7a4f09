use std::time::Duration;

use super::listen_subnet;
use super::RunArgs;
use p2p_node::daemon::{shutdown_signal, NodeConfig, RunningNode, HEADER_READ_TIMEOUT};
use p2p_node::market::Deadlines;
use p2p_node::network::{NetworkConfig, Watermarks};

pub(super) async fn run(args: RunArgs) -> anyhow::Result<()> {
    let defaults = Watermarks::for_limit(args.max_connections);
    let high = args.connections_high_water.unwrap_or(defaults.high);
    let low = args
        .connections_low_water
        .unwrap_or(Watermarks::trimming_from(high).low);
    let watermarks = Watermarks::new(low, high, args.max_connections)
        .map_err(|e| anyhow::anyhow!("--connections-low-water/--connections-high-water: {e}"))?;
    let listen = listen_subnet::resolve(args.listen, args.listen_subnet)
        .map_err(|e| anyhow::anyhow!("--listen-subnet: {}", p2p_api::error::chain(&e)))?;
    let config = NodeConfig {
        data_dir: args.data_dir,
        api_addr: args.api_addr,
        api_token: args.api_token.filter(|t| !t.is_empty()),
        api_header_timeout: HEADER_READ_TIMEOUT,
        network: NetworkConfig {
            listen,
            max_connections: args.max_connections,
            watermarks,
            idle_timeout: Duration::from_secs(args.idle_timeout_secs),
            ..NetworkConfig::default()
        },
        bootstrap: args.bootstrap,
        deadlines: Deadlines::default(),
    };
    let node = RunningNode::start(config).await?;
    println!("peer id   {}", node.market().peer_id());
    for addr in node.listen_addrs() {
        println!("listening {addr}");
    }
    println!("api       {}", node.api_url());
    node.run_until(shutdown_signal()).await?;
    Ok(())
}
