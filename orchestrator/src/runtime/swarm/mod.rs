//! The Docker Swarm runtime: the peers run as swarm tasks, spread over the swarm's nodes, on
//! an attachable overlay network of the run's own (a /16, DNS round robin).
//!
//! - One service of one task per peer ([`service`]): peer `i` keeps its name, its identity (a
//!   volume at `/data`) and its API port across restarts; churn scales it to 0 and back.
//! - The orchestrator reaches every API at the port its task publishes on its own node (host
//!   mode), at that node's swarm address: no proxy in between, wherever the task runs
//!   (docs/SCALE.md says why).
//! - A task's overlay address is the swarm's to choose, and a replaced task may get another:
//!   each node listens on its overlay address only (`--listen-subnet`) and reports it in
//!   `/status`, where the orchestrator learns it.
//! - Links are shaped in the overlay network's namespace on this node, where the tasks'
//!   interfaces meet on one bridge (netem's `Fabric::Overlay`).
//! - No registry is used: on a swarm of several nodes, the run first checks that every node
//!   has the image ([`image_check`]) and says how to load it where it is missing.
//! - Everything carries the run label, and [`cleanup`] removes it by label alone.

mod cleanup;
mod image_check;
mod preflight;
mod service;

pub use cleanup::{leftovers, remove_services, remove_volumes};

use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::path::{Path, PathBuf};

use bollard::models::{Task, TaskState};
use bollard::Docker;
use futures::StreamExt;
use ipnet::Ipv4Net;

use super::docker::{image, lifecycle, network_request, subnet, LAUNCH_CONCURRENCY, P2P_PORT};
use super::host::{ensure_neighbour_capacity, NeighbourTable};
use super::{docker_err, CliRun, InfraError, NodeOptions, PeerSlot, RUN_LABEL};
use preflight::Cluster;
use service::{PeerService, RunningTask};

/// Where Docker keeps the network namespaces of overlay networks: `1-<first 10 characters
/// of the network id>`.
const OVERLAY_NETNS_DIR: &str = "/run/docker/netns";

#[derive(Debug)]
pub struct SwarmRuntime {
    docker: Docker,
    run_id: String,
    subnet: Option<Ipv4Net>,
    cluster: Cluster,
    image: Option<String>,
    network_id: Option<String>,
    peers: Vec<SwarmPeer>,
    neighbours: NeighbourTable,
}

#[derive(Debug)]
struct SwarmPeer {
    service: String,
    /// Its current task, while it runs.
    task: Option<RunningTask>,
    /// Tasks the run started itself (the first and one per restart); the swarm's own
    /// replacements are the rest.
    tasks_started: usize,
}

impl SwarmRuntime {
    /// Checks the swarm, before anything is created: this engine must manage an active one.
    pub async fn new(
        docker: Docker,
        run_id: &str,
        subnet: Option<Ipv4Net>,
    ) -> Result<Self, InfraError> {
        let cluster = preflight::check(&docker).await?;
        Ok(Self {
            docker,
            run_id: run_id.to_owned(),
            subnet,
            cluster,
            image: None,
            network_id: None,
            peers: Vec::new(),
            neighbours: NeighbourTable::default(),
        })
    }

    /// Checks that every node of the swarm that takes tasks has image `image` (an id, so that
    /// no node tries to pull it), whatever the number of nodes: what a run does first on a
    /// swarm of several. The check's service carries `run_id`'s label.
    pub async fn check_image(&self, image: &str) -> Result<(), InfraError> {
        image_check::check(&self.docker, &self.cluster, image, image, &self.run_id).await
    }

    /// Ready nodes of the swarm, this one included.
    pub fn nodes(&self) -> usize {
        self.cluster.nodes.len()
    }

    fn labels(&self) -> HashMap<String, String> {
        HashMap::from([(RUN_LABEL.to_owned(), self.run_id.clone())])
    }

    pub fn image(&self) -> Option<String> {
        self.image.clone()
    }

    /// The overlay network's subnet, once launched.
    pub fn subnet(&self) -> Option<Ipv4Net> {
        self.subnet
    }

    pub(super) async fn launch(
        &mut self,
        count: usize,
        binary: &Path,
        options: NodeOptions,
        progress: &indicatif::ProgressBar,
    ) -> Result<Vec<PeerSlot>, InfraError> {
        progress.set_message("building the node image");
        let tag = image::ensure(&self.docker, binary, &self.run_id).await?;
        // Tasks name the image by its id: a swarm node pulls every image named by a tag before
        // it starts a task (and there is no registry to pull from), but never one named by id.
        // `docker save | docker load` keeps the id, so it names the same image on every node.
        let image = self
            .docker
            .inspect_image(&tag)
            .await
            .map_err(docker_err("InspectImage"))?
            .id
            .ok_or_else(|| InfraError::ImageBuild(format!("{tag} has no id")))?;
        // On one node, the image was just built there.
        if self.cluster.nodes.len() > 1 {
            progress.set_message("checking that every node has the image");
            image_check::check(&self.docker, &self.cluster, &image, &tag, &self.run_id).await?;
        }
        self.image = Some(tag);
        self.neighbours = ensure_neighbour_capacity(count, &self.run_id)?;

        progress.set_message("creating the run's overlay network");
        let subnet = match self.subnet {
            Some(s) => s,
            None => subnet::free(&self.docker).await?,
        };
        self.subnet = Some(subnet);
        // The network address, the gateway and the broadcast address are not for tasks.
        let available = subnet.hosts().count().saturating_sub(1);
        if count > available {
            return Err(InfraError::NoSubnet(format!(
                "{subnet} holds {available} tasks, {count} asked"
            )));
        }
        let created = self
            .docker
            .create_network(network_request(
                &format!("p2p-testbed-{}", self.run_id),
                "overlay",
                subnet,
                None,
                self.labels(),
            ))
            .await
            .map_err(docker_err("CreateNetwork"))?;
        self.network_id = Some(created.id.clone());

        let api_ports = free_ports(count)?;
        let names: Vec<String> = (0..count)
            .map(|i| format!("p2p-{}-{i:04}", self.run_id))
            .collect();
        progress.set_message("creating services");
        progress.set_length(count as u64);
        let labels = self.labels();
        let docker = &self.docker;
        let (image, network_id, options, labels) = (&image, &created.id, &options, &labels);
        let outcomes: Vec<Result<RunningTask, InfraError>> =
            futures::stream::iter(names.iter().zip(&api_ports))
                .map(|(name, &api_port)| async move {
                    let spec = PeerService {
                        name,
                        image,
                        network_id,
                        subnet,
                        api_port,
                        labels,
                        options,
                    }
                    .spec();
                    docker
                        .create_service(spec, None)
                        .await
                        .map_err(docker_err("CreateService"))?;
                    let task = service::wait_running(docker, name).await;
                    progress.inc(1);
                    task
                })
                .buffered(LAUNCH_CONCURRENCY)
                .collect()
                .await;
        let mut slots = Vec::with_capacity(count);
        for (index, ((name, api_port), task)) in
            names.into_iter().zip(api_ports).zip(outcomes).enumerate()
        {
            let task = task.map_err(|e| self.explain_missing_image(e))?;
            let node_addr = self.node_addr(&task.node)?;
            slots.push(PeerSlot {
                index,
                name: name.clone(),
                // Learned from the node itself once it answers ([`super::Runtime::learns_addresses`]).
                ip: Ipv4Addr::UNSPECIFIED,
                p2p_port: P2P_PORT,
                api: SocketAddr::new(node_addr.into(), api_port),
            });
            self.peers.push(SwarmPeer {
                service: name,
                task: Some(task),
                tasks_started: 1,
            });
        }
        Ok(slots)
    }

    /// A task rejected for want of the image: how to get it to that node.
    fn explain_missing_image(&self, e: InfraError) -> InfraError {
        match (&e, &self.image) {
            (InfraError::Peer { peer, detail }, Some(image))
                if detail.contains("No such image") =>
            {
                InfraError::Peer {
                    peer: peer.clone(),
                    detail: format!(
                        "{detail}: no registry is used, so every node needs the image itself: \
                         `docker save {image} | ssh <node> docker load`"
                    ),
                }
            }
            _ => e,
        }
    }

    fn node_addr(&self, node: &str) -> Result<Ipv4Addr, InfraError> {
        self.cluster
            .nodes
            .get(node)
            .map(|n| n.addr)
            .ok_or_else(|| InfraError::Swarm(format!("task on node {node}, which is not ready")))
    }

    fn peer(&self, index: usize) -> Result<&SwarmPeer, InfraError> {
        self.peers.get(index).ok_or_else(|| InfraError::Peer {
            peer: index.to_string(),
            detail: "no such peer".into(),
        })
    }

    /// The container of peer `index`'s task, when it runs on this node.
    fn local_container(&self, index: usize) -> Result<String, InfraError> {
        let peer = self.peer(index)?;
        let task = peer.task.as_ref().ok_or_else(|| InfraError::Peer {
            peer: peer.service.clone(),
            detail: "its task is not running".into(),
        })?;
        if task.node != self.cluster.local_node {
            return Err(InfraError::Peer {
                peer: peer.service.clone(),
                detail: format!(
                    "its task runs on node {}: only tasks on this node can be entered",
                    self.cluster
                        .nodes
                        .get(&task.node)
                        .map_or(task.node.as_str(), |n| n.hostname.as_str())
                ),
            });
        }
        task.container.clone().ok_or_else(|| InfraError::Peer {
            peer: peer.service.clone(),
            detail: "its task reports no container".into(),
        })
    }

    pub(super) async fn stop_peer(&mut self, index: usize) -> Result<(), InfraError> {
        let name = self.peer(index)?.service.clone();
        service::scale(&self.docker, &name, 0).await?;
        service::wait_stopped(&self.docker, &name).await?;
        self.peers[index].task = None;
        Ok(())
    }

    pub(super) async fn restart_peer(&mut self, index: usize) -> Result<(), InfraError> {
        let name = self.peer(index)?.service.clone();
        service::scale(&self.docker, &name, 1).await?;
        let task = service::wait_running(&self.docker, &name).await?;
        let peer = &mut self.peers[index];
        peer.task = Some(task);
        peer.tasks_started += 1;
        Ok(())
    }

    pub(super) async fn is_running(&mut self, index: usize) -> bool {
        let Ok(peer) = self.peer(index) else {
            return false;
        };
        let Some(current) = peer.task.as_ref().map(|t| t.id.clone()) else {
            return false;
        };
        service::tasks(&self.docker, &peer.service)
            .await
            .map(|tasks| {
                tasks.iter().any(|t| {
                    t.id.as_deref() == Some(current.as_str())
                        && t.status.as_ref().and_then(|s| s.state) == Some(TaskState::RUNNING)
                })
            })
            .unwrap_or(false)
    }

    pub(super) async fn run_cli(
        &self,
        index: usize,
        args: &[String],
    ) -> Result<CliRun, InfraError> {
        lifecycle::exec_cli(&self.docker, &self.local_container(index)?, args).await
    }

    pub(super) async fn container_memory(&self, index: usize) -> Option<u64> {
        lifecycle::memory_of(&self.docker, &self.local_container(index).ok()?).await
    }

    pub(super) async fn netns(&self, index: usize) -> Option<PathBuf> {
        lifecycle::netns_of(&self.docker, &self.local_container(index).ok()?).await
    }

    /// Full ids of the containers of the tasks running on this node.
    pub fn container_ids(&self) -> Vec<String> {
        self.peers
            .iter()
            .filter_map(|p| p.task.as_ref())
            .filter(|t| t.node == self.cluster.local_node)
            .filter_map(|t| t.container.clone())
            .collect()
    }

    /// The overlay network's namespace on this node, where the links are shaped. Tasks on
    /// other nodes would need a shaping agent there, which this runtime does not have yet.
    pub fn shaping_namespace(&self) -> Result<PathBuf, String> {
        let elsewhere: Vec<&str> = self
            .peers
            .iter()
            .filter_map(|p| p.task.as_ref())
            .filter(|t| t.node != self.cluster.local_node)
            .map(|t| {
                self.cluster
                    .nodes
                    .get(&t.node)
                    .map_or(t.node.as_str(), |n| n.hostname.as_str())
            })
            .collect();
        if !elsewhere.is_empty() {
            let mut nodes = elsewhere.clone();
            nodes.sort_unstable();
            nodes.dedup();
            return Err(format!(
                "{} task(s) run on other nodes ({}): shaping them needs a per-node agent, \
                 which the swarm runtime does not have yet; run unshaped, or on one node",
                elsewhere.len(),
                nodes.join(", ")
            ));
        }
        let id = self
            .network_id
            .as_deref()
            .ok_or_else(|| "the overlay network does not exist yet".to_owned())?;
        let path = Path::new(OVERLAY_NETNS_DIR).join(format!("1-{}", &id[..id.len().min(10)]));
        if path.exists() {
            Ok(path)
        } else {
            Err(format!(
                "{}: the overlay network's namespace is not on this node",
                path.display()
            ))
        }
    }

    /// Tasks the swarm started on its own (a node that crashed and was restarted), per peer:
    /// the run reports them, since such a peer lost its state behind the orchestrator's back.
    pub(super) async fn replaced_by_swarm(&self) -> Vec<String> {
        let mut out = Vec::new();
        for peer in &self.peers {
            let tasks = match service::tasks(&self.docker, &peer.service).await {
                Ok(tasks) => tasks,
                Err(e) => {
                    out.push(format!("{}: {}", peer.service, p2p_api::error::chain(&e)));
                    continue;
                }
            };
            // Tasks the run stopped end shut down; one that died on its own failed, and the
            // swarm starts another. Just after the death the swarm may not know yet: the
            // container tells.
            let failed: Vec<&Task> = tasks
                .iter()
                .filter(|t| t.status.as_ref().and_then(|s| s.state) == Some(TaskState::FAILED))
                .collect();
            let replaced = tasks
                .len()
                .saturating_sub(peer.tasks_started)
                .max(failed.len());
            let died = match &peer.task {
                Some(current) => {
                    let state = tasks
                        .iter()
                        .find(|t| t.id.as_deref() == Some(current.id.as_str()))
                        .and_then(|t| t.status.as_ref()?.state);
                    let container_gone = match &current.container {
                        Some(c) if current.node == self.cluster.local_node => {
                            !lifecycle::is_running(&self.docker, c).await
                        }
                        _ => false,
                    };
                    state != Some(TaskState::RUNNING) || container_gone
                }
                None => false,
            };
            if replaced > 0 || died {
                let reason = failed
                    .iter()
                    .find_map(|t| t.status.as_ref()?.err.clone())
                    .unwrap_or_else(|| "its container exited".into());
                out.push(format!(
                    "{}: its task stopped on its own ({reason}), and the swarm replaces such a task behind the run's back ({replaced} replacement(s) so far)",
                    peer.service
                ));
            }
        }
        out
    }

    /// Removes the run's services, then its network and containers, then its volumes.
    pub(super) async fn teardown(&mut self) -> Vec<String> {
        let (_, mut problems) = remove_services(&self.docker, Some(&self.run_id)).await;
        problems.extend(
            super::docker::remove_labelled(&self.docker, Some(&self.run_id))
                .await
                .problems,
        );
        problems.extend(remove_volumes(&self.docker, Some(&self.run_id)).await.1);
        self.peers.clear();
        self.network_id = None;
        problems
    }
}

/// `count` TCP ports free on this host, for the tasks to publish their APIs on. On other
/// nodes a port that is taken makes the swarm reject that task, which the run reports.
fn free_ports(count: usize) -> Result<Vec<u16>, InfraError> {
    // Held together, so that no port comes up twice.
    let listeners = (0..count)
        .map(|_| TcpListener::bind((Ipv4Addr::UNSPECIFIED, 0)))
        .collect::<Result<Vec<_>, _>>()
        .map_err(InfraError::io("finding free ports for the tasks' APIs"))?;
    listeners
        .iter()
        .map(|l| l.local_addr().map(|a| a.port()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(InfraError::io("finding free ports for the tasks' APIs"))
}
