//! The Docker runtime (bollard): a `FROM scratch` image of the static `p2p-node`
//! ([`image`]), one bridge network per run on a free subnet ([`subnet`]), one container per
//! peer at a known address ([`lifecycle`]), and removal by label ([`cleanup`]). Nothing is
//! ever pulled.

mod cleanup;
pub(super) mod image;
pub(super) mod lifecycle;
pub(super) mod subnet;

pub(super) use cleanup::{gone_already, label_filter, run_of};
pub use cleanup::{leftovers, remove_labelled, Removed};
pub use image::{ensure as ensure_node_image, SAMPLE_FILE_IN_IMAGE};

use std::collections::HashMap;
use std::path::Path;

use bollard::models::{Ipam, IpamConfig, NetworkCreateRequest};
use bollard::Docker;
use futures::StreamExt;
use ipnet::Ipv4Net;

use super::host::{ensure_neighbour_capacity, NeighbourTable};
use super::{docker_err, InfraError, NodeOptions, PeerSlot, RUN_LABEL};

/// The ports a node listens on inside its container.
pub(super) const P2P_PORT: u16 = 4001;
pub(super) const API_PORT: u16 = 8080;
/// Containers created and started at once, and removed at once.
pub(super) const LAUNCH_CONCURRENCY: usize = 8;

#[derive(Debug)]
pub struct DockerRuntime {
    docker: Docker,
    run_id: String,
    subnet: Option<Ipv4Net>,
    image: Option<String>,
    network: Option<String>,
    containers: Vec<String>,
    /// Full ids of the containers, in peer order (for their cgroups).
    container_ids: Vec<String>,
    neighbours: NeighbourTable,
}

/// A network of the run's: `driver` (`bridge`, `overlay`) on `subnet`, labelled. Overlay
/// networks are attachable and choose their own gateway.
pub(super) fn network_request(
    name: &str,
    driver: &str,
    subnet: Ipv4Net,
    gateway: Option<std::net::Ipv4Addr>,
    labels: HashMap<String, String>,
) -> NetworkCreateRequest {
    NetworkCreateRequest {
        name: name.to_owned(),
        driver: Some(driver.to_owned()),
        attachable: (driver == "overlay").then_some(true),
        ipam: Some(Ipam {
            config: Some(vec![IpamConfig {
                subnet: Some(subnet.to_string()),
                gateway: gateway.map(|g| g.to_string()),
                ..Default::default()
            }]),
            ..Default::default()
        }),
        labels: Some(labels),
        ..Default::default()
    }
}

/// Connects to the local engine (socket or `DOCKER_HOST`) and checks that it answers.
pub async fn connect() -> Result<Docker, InfraError> {
    let docker = Docker::connect_with_local_defaults().map_err(InfraError::NoDocker)?;
    let docker = docker
        .negotiate_version()
        .await
        .map_err(InfraError::NoDocker)?;
    docker.ping().await.map_err(InfraError::NoDocker)?;
    Ok(docker)
}

impl DockerRuntime {
    pub fn new(docker: Docker, run_id: &str, subnet: Option<Ipv4Net>) -> Self {
        Self {
            docker,
            run_id: run_id.to_owned(),
            subnet,
            image: None,
            network: None,
            containers: Vec::new(),
            container_ids: Vec::new(),
            neighbours: NeighbourTable::default(),
        }
    }

    fn labels(&self) -> HashMap<String, String> {
        HashMap::from([(RUN_LABEL.to_owned(), self.run_id.clone())])
    }

    pub fn image(&self) -> Option<String> {
        self.image.clone()
    }

    pub(super) async fn launch(
        &mut self,
        count: usize,
        binary: &Path,
        options: NodeOptions,
        progress: &indicatif::ProgressBar,
    ) -> Result<Vec<PeerSlot>, InfraError> {
        progress.set_message("building the node image");
        let image = image::ensure(&self.docker, binary, &self.run_id).await?;
        self.image = Some(image.clone());

        self.neighbours = ensure_neighbour_capacity(count, &self.run_id)?;
        progress.set_message("creating the run's network");
        let subnet = match self.subnet {
            Some(s) => s,
            None => subnet::free(&self.docker).await?,
        };
        self.subnet = Some(subnet);
        let network = format!("p2p-testbed-{}", self.run_id);
        let gateway = subnet
            .hosts()
            .next()
            .ok_or_else(|| InfraError::NoSubnet(format!("{subnet} has no hosts")))?;
        let available = subnet.hosts().count().saturating_sub(1);
        if count > available {
            return Err(InfraError::NoSubnet(format!(
                "{subnet} holds {available} peers, {count} asked"
            )));
        }
        self.docker
            .create_network(network_request(
                &network,
                "bridge",
                subnet,
                Some(gateway),
                self.labels(),
            ))
            .await
            .map_err(docker_err("CreateNetwork"))?;
        self.network = Some(network.clone());

        let slots: Vec<PeerSlot> = subnet
            .hosts()
            .skip(1)
            .take(count)
            .enumerate()
            .map(|(index, ip)| PeerSlot {
                index,
                name: format!("p2p-{}-{index:04}", self.run_id),
                ip,
                p2p_port: P2P_PORT,
                api: std::net::SocketAddr::new(ip.into(), API_PORT),
            })
            .collect();
        self.containers = slots.iter().map(|s| s.name.clone()).collect();

        progress.set_message("starting containers");
        progress.set_length(count as u64);
        let labels = self.labels();
        let (docker, options) = (&self.docker, &options);
        let started: Vec<Result<String, InfraError>> = futures::stream::iter(&slots)
            .map(|slot| {
                let (image, network, labels) = (image.clone(), network.clone(), labels.clone());
                async move {
                    let id = lifecycle::create_and_start(
                        docker, slot, &image, &network, labels, options,
                    )
                    .await?;
                    progress.inc(1);
                    Ok(id)
                }
            })
            .buffered(LAUNCH_CONCURRENCY)
            .collect()
            .await;
        self.container_ids = started.into_iter().collect::<Result<Vec<String>, _>>()?;
        Ok(slots)
    }

    /// Builds the node image if needed and also tags it `p2p-testbed/node:latest` (what the
    /// compose file runs). Returns the content-hash tag.
    pub async fn build_latest(&self, binary: &Path) -> Result<String, InfraError> {
        image::build_latest(&self.docker, binary, &self.run_id).await
    }

    /// The run network's subnet, once launched.
    pub fn subnet(&self) -> Option<Ipv4Net> {
        self.subnet
    }

    /// Full ids of the peers' containers.
    pub fn container_ids(&self) -> &[String] {
        &self.container_ids
    }

    pub(super) fn container(&self, index: usize) -> Result<String, InfraError> {
        self.containers
            .get(index)
            .cloned()
            .ok_or_else(|| InfraError::Peer {
                peer: index.to_string(),
                detail: "no such peer".into(),
            })
    }

    /// Removes every container and network labelled with this run.
    pub(super) async fn teardown(&mut self) -> Vec<String> {
        let problems = remove_labelled(&self.docker, Some(&self.run_id))
            .await
            .problems;
        self.containers.clear();
        self.container_ids.clear();
        self.network = None;
        problems
    }
}
