//! The command line's arguments, and which command does what.

mod listen_subnet;
mod output;
mod run;

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use libp2p::Multiaddr;

#[derive(Debug, Parser)]
#[command(
    name = "p2p-node",
    version,
    about = "Marketplace peer of the P2P testbed"
)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Run the node: libp2p peer plus HTTP control API, until Ctrl-C or SIGTERM.
    Run(RunArgs),
    /// Publish a file as a package.
    Publish(PublishArgs),
    /// Search packages, locally or across the network.
    Search(SearchArgs),
    /// Install a package from the network.
    Install(InstallArgs),
    /// Show the node's status.
    Status(ClientArgs),
}

#[derive(Debug, Args)]
pub(crate) struct RunArgs {
    /// Where packages and the node identity are kept.
    #[arg(long, env = "P2P_NODE_DATA_DIR", default_value = "p2p-data")]
    pub(crate) data_dir: PathBuf,
    /// libp2p listen address (repeatable). Nodes sharing a host need distinct ports: libp2p
    /// dials from its listen port, so equal ports on loopback would connect a node to itself.
    #[arg(
        long,
        env = "P2P_NODE_LISTEN",
        default_value = "/ip4/0.0.0.0/tcp/4001",
        value_delimiter = ','
    )]
    pub(crate) listen: Vec<Multiaddr>,
    /// Listen on this host's own address inside this network instead of `0.0.0.0` (every
    /// `--listen` must then be `/ip4/0.0.0.0/…`), so that only that address is announced.
    #[arg(long, env = "P2P_NODE_LISTEN_SUBNET")]
    pub(crate) listen_subnet: Option<ipnet::Ipv4Net>,
    /// Address of the HTTP control API.
    #[arg(long, env = "P2P_NODE_API_ADDR", default_value = "127.0.0.1:8080")]
    pub(crate) api_addr: SocketAddr,
    /// Peer to bootstrap from, `/ip4/…/tcp/…[/p2p/<peer id>]` (repeatable; without a peer
    /// id the address is dialed and the id learned from the connection). No peer is
    /// contacted that was not given here or learned from a given peer.
    #[arg(long, env = "P2P_NODE_BOOTSTRAP", value_delimiter = ',')]
    pub(crate) bootstrap: Vec<Multiaddr>,
    /// Require this bearer token on mutating API requests.
    #[arg(long, env = "P2P_NODE_API_TOKEN", hide_env_values = true)]
    pub(crate) api_token: Option<String>,
    /// Most established connections in all.
    #[arg(long, env = "P2P_NODE_MAX_CONNECTIONS", default_value_t = 256)]
    pub(crate) max_connections: u32,
    /// Above this many connected peers, the least recently active are disconnected down to
    /// the low watermark; gossip mesh peers and peers active in the last 20 s are spared
    /// (default: 64, or half the connection limit if lower).
    #[arg(long, env = "P2P_NODE_CONNECTIONS_HIGH_WATER")]
    pub(crate) connections_high_water: Option<u32>,
    /// Where trimming connections stops (default: half the high watermark).
    #[arg(long, env = "P2P_NODE_CONNECTIONS_LOW_WATER")]
    pub(crate) connections_low_water: Option<u32>,
    /// Close connections idle for this many seconds.
    #[arg(long, env = "P2P_NODE_IDLE_TIMEOUT_SECS", default_value_t = 60)]
    pub(crate) idle_timeout_secs: u64,
}

#[derive(Debug, Args)]
pub(crate) struct ClientArgs {
    /// URL of the node's API.
    #[arg(long, env = "P2P_NODE_URL", default_value = "http://127.0.0.1:8080")]
    pub(crate) node: String,
    /// Bearer token for nodes that require one.
    #[arg(long, env = "P2P_NODE_API_TOKEN", hide_env_values = true)]
    pub(crate) api_token: Option<String>,
    /// Print the API's JSON answer instead of a table.
    #[arg(long)]
    pub(crate) json: bool,
    /// End standard error with the command's own wall time, from its start to its exit
    /// (`p2p-node elapsed_s: 0.123456`).
    #[arg(long)]
    pub(crate) timing: bool,
}

#[derive(Debug, Args)]
pub(crate) struct PublishArgs {
    /// The file to publish.
    pub(crate) file: PathBuf,
    #[arg(long)]
    pub(crate) name: String,
    #[arg(long)]
    pub(crate) version: String,
    #[arg(long, default_value = "")]
    pub(crate) description: String,
    /// A tag (repeatable).
    #[arg(long = "tag")]
    pub(crate) tags: Vec<String>,
    #[command(flatten)]
    pub(crate) client: ClientArgs,
}

#[derive(Debug, Args)]
pub(crate) struct SearchArgs {
    pub(crate) query: String,
    /// Ask connected peers too, not only the local index.
    #[arg(long)]
    pub(crate) network: bool,
    #[arg(long, default_value_t = 20)]
    pub(crate) limit: usize,
    #[command(flatten)]
    pub(crate) client: ClientArgs,
}

#[derive(Debug, Args)]
pub(crate) struct InstallArgs {
    pub(crate) name: String,
    /// A version; the latest when omitted.
    #[arg(long)]
    pub(crate) version: Option<String>,
    #[command(flatten)]
    pub(crate) client: ClientArgs,
}

impl Command {
    /// Whether the command was asked to report its wall time.
    pub(crate) fn timing(&self) -> bool {
        match self {
            Command::Run(_) => false,
            Command::Publish(a) => a.client.timing,
            Command::Search(a) => a.client.timing,
            Command::Install(a) => a.client.timing,
            Command::Status(a) => a.timing,
        }
    }
}

/// Runs a parsed command line.
pub(crate) async fn execute(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Run(args) => run::run(args).await,
        Command::Publish(args) => output::publish(args).await,
        Command::Search(args) => output::search(args).await,
        Command::Install(args) => output::install(args).await,
        Command::Status(args) => output::status(args).await,
    }
}
