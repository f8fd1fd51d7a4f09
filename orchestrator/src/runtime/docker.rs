//! The Docker runtime (bollard): a `FROM scratch` image of the static `p2p-node`, built from
//! an in-memory tar context and tagged by content hash; one bridge network per run with an
//! explicit subnet; one container per peer at a known address. Nothing is ever pulled.

use std::collections::HashMap;
use std::net::Ipv4Addr;
use std::path::Path;
use std::time::Instant;

use bollard::exec::{StartExecOptions, StartExecResults};
use bollard::models::{
    ContainerCreateBody, EndpointIpamConfig, EndpointSettings, ExecConfig, HostConfig, Ipam,
    IpamConfig, NetworkCreateRequest, NetworkDisconnectRequest, NetworkingConfig,
};
use bollard::query_parameters::{
    BuildImageOptionsBuilder, CreateContainerOptionsBuilder, ListContainersOptionsBuilder,
    ListNetworksOptionsBuilder, RemoveContainerOptionsBuilder, StatsOptionsBuilder,
    StopContainerOptionsBuilder,
};
use bollard::Docker;
use futures::StreamExt;
use ipnet::Ipv4Net;
use sha2::{Digest, Sha256};

use super::host::{ensure_neighbour_capacity, NeighbourTable};
use super::{
    docker_err, node_args, CliRun, InfraError, NodeOptions, PeerSlot, NODE_ENV, RUN_LABEL,
};

const P2P_PORT: u16 = 4001;
const API_PORT: u16 = 8080;
const IMAGE_REPOSITORY: &str = "p2p-testbed/node";
const DOCKERFILE: &str =
    "FROM scratch\nCOPY p2p-node /p2p-node\nCOPY sample-package.txt /sample-package.txt\nENTRYPOINT [\"/p2p-node\"]\n";
/// Where the image holds the file the CLI phase publishes.
pub const SAMPLE_FILE_IN_IMAGE: &str = "/sample-package.txt";
/// Containers created and started at once.
const LAUNCH_CONCURRENCY: usize = 8;
/// Grace period between SIGTERM and SIGKILL when a peer is stopped.
const STOP_GRACE_SECS: i32 = 5;

#[derive(Debug)]
pub struct DockerRuntime {
    docker: Docker,
    run_id: String,
    subnet: Option<Ipv4Net>,
    image: Option<String>,
    network: Option<String>,
    containers: Vec<String>,
    neighbours: NeighbourTable,
}

/// Connects to the local engine (socket or `DOCKER_HOST`) and checks that it answers.
pub async fn connect() -> Result<Docker, InfraError> {
    let docker =
        Docker::connect_with_local_defaults().map_err(|e| InfraError::NoDocker(e.to_string()))?;
    let docker = docker
        .negotiate_version()
        .await
        .map_err(|e| InfraError::NoDocker(e.to_string()))?;
    docker
        .ping()
        .await
        .map_err(|e| InfraError::NoDocker(e.to_string()))?;
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
        let image = self.ensure_image(binary).await?;
        self.image = Some(image.clone());

        self.neighbours = ensure_neighbour_capacity(count)?;
        progress.set_message("creating the run's network");
        let subnet = match self.subnet {
            Some(s) => s,
            None => free_subnet(&self.docker).await?,
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
            .create_network(NetworkCreateRequest {
                name: network.clone(),
                driver: Some("bridge".into()),
                ipam: Some(Ipam {
                    config: Some(vec![IpamConfig {
                        subnet: Some(subnet.to_string()),
                        gateway: Some(gateway.to_string()),
                        ..Default::default()
                    }]),
                    ..Default::default()
                }),
                labels: Some(self.labels()),
                ..Default::default()
            })
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
                api_port: API_PORT,
            })
            .collect();
        self.containers = slots.iter().map(|s| s.name.clone()).collect();

        progress.set_message("starting containers");
        progress.set_length(count as u64);
        let labels = self.labels();
        let docker = &self.docker;
        let started: Vec<Result<(), InfraError>> = futures::stream::iter(&slots)
            .map(|slot| {
                let (image, network, labels) = (image.clone(), network.clone(), labels.clone());
                async move {
                    create_and_start(docker, slot, &image, &network, labels, &options).await?;
                    progress.inc(1);
                    Ok(())
                }
            })
            .buffer_unordered(LAUNCH_CONCURRENCY)
            .collect()
            .await;
        started.into_iter().collect::<Result<Vec<()>, _>>()?;
        Ok(slots)
    }

    /// Builds the node image if needed and also tags it `p2p-testbed/node:latest` (what the
    /// compose file runs). Returns the content-hash tag.
    pub async fn build_latest(&self, binary: &Path) -> Result<String, InfraError> {
        let tag = self.ensure_image(binary).await?;
        let options = bollard::query_parameters::TagImageOptionsBuilder::default()
            .repo(IMAGE_REPOSITORY)
            .tag("latest")
            .build();
        self.docker
            .tag_image(&tag, Some(options))
            .await
            .map_err(docker_err("TagImage"))?;
        Ok(tag)
    }

    /// Builds the image unless one with the same content hash exists.
    async fn ensure_image(&self, binary: &Path) -> Result<String, InfraError> {
        let bytes = tokio::fs::read(binary)
            .await
            .map_err(|e| InfraError::Binary(format!("reading {}: {e}", binary.display())))?;
        let mut hasher = Sha256::new();
        hasher.update(DOCKERFILE.as_bytes());
        hasher.update(&bytes);
        let tag = format!(
            "{IMAGE_REPOSITORY}:{}",
            &hex::encode(hasher.finalize())[..16]
        );
        if self.docker.inspect_image(&tag).await.is_ok() {
            return Ok(tag);
        }
        let context = build_context(&bytes)
            .map_err(|e| InfraError::ImageBuild(format!("making the build context: {e}")))?;
        let labels = HashMap::from([
            ("p2p-testbed.image", "node"),
            ("p2p-testbed.built-by", self.run_id.as_str()),
        ]);
        let options = BuildImageOptionsBuilder::default()
            .dockerfile("Dockerfile")
            .t(&tag)
            .rm(true)
            .forcerm(true)
            .labels(&labels)
            .build();
        let mut stream =
            self.docker
                .build_image(options, None, Some(bollard::body_full(context.into())));
        while let Some(info) = stream.next().await {
            let info =
                info.map_err(|e| InfraError::ImageBuild(explain_build_error(&e.to_string())))?;
            if let Some(detail) = info.error_detail.and_then(|d| d.message) {
                return Err(InfraError::ImageBuild(explain_build_error(&detail)));
            }
        }
        Ok(tag)
    }

    pub(super) async fn stop_peer(&mut self, index: usize) -> Result<(), InfraError> {
        let name = self.container(index)?;
        self.docker
            .stop_container(
                &name,
                Some(
                    StopContainerOptionsBuilder::default()
                        .t(STOP_GRACE_SECS)
                        .build(),
                ),
            )
            .await
            .map_err(docker_err("StopContainer"))
    }

    pub(super) async fn restart_peer(&mut self, index: usize) -> Result<(), InfraError> {
        let name = self.container(index)?;
        self.docker
            .start_container(
                &name,
                None::<bollard::query_parameters::StartContainerOptions>,
            )
            .await
            .map_err(docker_err("StartContainer"))
    }

    /// The run network's subnet, once launched.
    pub fn subnet(&self) -> Option<Ipv4Net> {
        self.subnet
    }

    /// The network namespace of peer `index`'s container (`/proc/<pid>/ns/net`).
    pub(super) async fn netns(&self, index: usize) -> Option<std::path::PathBuf> {
        let name = self.container(index).ok()?;
        let pid = self
            .docker
            .inspect_container(
                &name,
                None::<bollard::query_parameters::InspectContainerOptions>,
            )
            .await
            .ok()?
            .state?
            .pid?;
        (pid > 0).then(|| std::path::PathBuf::from(format!("/proc/{pid}/ns/net")))
    }

    pub(super) async fn is_running(&mut self, index: usize) -> bool {
        let Ok(name) = self.container(index) else {
            return false;
        };
        self.docker
            .inspect_container(
                &name,
                None::<bollard::query_parameters::InspectContainerOptions>,
            )
            .await
            .ok()
            .and_then(|c| c.state)
            .and_then(|s| s.running)
            .unwrap_or(false)
    }

    pub(super) async fn run_cli(
        &self,
        index: usize,
        args: &[String],
    ) -> Result<CliRun, InfraError> {
        let name = self.container(index)?;
        let mut cmd = vec!["/p2p-node".to_owned()];
        cmd.extend(args.iter().cloned());
        cmd.extend(["--node".to_owned(), format!("http://127.0.0.1:{API_PORT}")]);
        let started = Instant::now();
        let exec = self
            .docker
            .create_exec(
                &name,
                ExecConfig {
                    attach_stdout: Some(true),
                    attach_stderr: Some(true),
                    cmd: Some(cmd),
                    ..Default::default()
                },
            )
            .await
            .map_err(docker_err("CreateExec"))?;
        let mut output = String::new();
        match self
            .docker
            .start_exec(&exec.id, Some(StartExecOptions::default()))
            .await
            .map_err(docker_err("StartExec"))?
        {
            StartExecResults::Attached {
                output: mut stream, ..
            } => {
                while let Some(chunk) = stream.next().await {
                    let chunk = chunk.map_err(docker_err("ReadExecOutput"))?;
                    output.push_str(&chunk.to_string());
                }
            }
            StartExecResults::Detached => {}
        }
        let elapsed = started.elapsed();
        let inspect = self
            .docker
            .inspect_exec(&exec.id)
            .await
            .map_err(docker_err("InspectExec"))?;
        Ok(CliRun {
            elapsed,
            success: inspect.exit_code == Some(0),
            output,
        })
    }

    pub(super) async fn container_memory(&self, index: usize) -> Option<u64> {
        let name = self.container(index).ok()?;
        let options = StatsOptionsBuilder::default()
            .stream(false)
            .one_shot(true)
            .build();
        let stats = self.docker.stats(&name, Some(options)).next().await?.ok()?;
        let memory = stats.memory_stats?;
        let usage = memory.usage?;
        // Page cache is not the process's memory: cgroup v2 calls it inactive_file, v1
        // total_inactive_file.
        let cache = memory
            .stats
            .as_ref()
            .and_then(|s| {
                s.get("inactive_file")
                    .or_else(|| s.get("total_inactive_file"))
                    .copied()
            })
            .unwrap_or(0);
        Some(usage.saturating_sub(cache))
    }

    fn container(&self, index: usize) -> Result<String, InfraError> {
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
        self.network = None;
        problems
    }
}

async fn create_and_start(
    docker: &Docker,
    slot: &PeerSlot,
    image: &str,
    network: &str,
    labels: HashMap<String, String>,
    options: &NodeOptions,
) -> Result<(), InfraError> {
    let cmd = node_args("0.0.0.0", P2P_PORT, "0.0.0.0", API_PORT, "/data", options);
    let endpoint = EndpointSettings {
        ipam_config: Some(EndpointIpamConfig {
            ipv4_address: Some(slot.ip.to_string()),
            ..Default::default()
        }),
        ..Default::default()
    };
    let body = ContainerCreateBody {
        image: Some(image.to_owned()),
        cmd: Some(cmd),
        env: Some(NODE_ENV.iter().map(|(k, v)| format!("{k}={v}")).collect()),
        labels: Some(labels),
        host_config: Some(HostConfig {
            network_mode: Some(network.to_owned()),
            memory: options.memory_bytes.map(|m| m as i64),
            nano_cpus: options.cpus.map(|c| (c * 1e9) as i64),
            ..Default::default()
        }),
        networking_config: Some(NetworkingConfig {
            endpoints_config: Some(HashMap::from([(network.to_owned(), endpoint)])),
        }),
        ..Default::default()
    };
    docker
        .create_container(
            Some(
                CreateContainerOptionsBuilder::default()
                    .name(&slot.name)
                    .build(),
            ),
            body,
        )
        .await
        .map_err(docker_err("CreateContainer"))?;
    docker
        .start_container(
            &slot.name,
            None::<bollard::query_parameters::StartContainerOptions>,
        )
        .await
        .map_err(docker_err("StartContainer"))
}

/// A tar holding the Dockerfile and the binary, made in memory.
fn build_context(binary: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut tar = tar::Builder::new(Vec::new());
    let files = [
        ("Dockerfile", DOCKERFILE.as_bytes(), 0o644),
        ("p2p-node", binary, 0o755),
        (
            "sample-package.txt",
            super::SAMPLE_PACKAGE.as_bytes(),
            0o644,
        ),
    ];
    for (name, data, mode) in files {
        let mut header = tar::Header::new_gnu();
        header.set_size(data.len() as u64);
        header.set_mode(mode);
        header.set_cksum();
        tar.append_data(&mut header, name, data)?;
    }
    tar.into_inner()
}

fn explain_build_error(message: &str) -> String {
    if message.contains("pull") || message.contains("registry") || message.contains("manifest") {
        format!("{message} (the build would need to pull an image; no registry is reachable here, and the node image needs none)")
    } else {
        message.to_owned()
    }
}

/// The first /16 in 10.213.0.0–10.250.0.0 that overlaps neither a host route nor a Docker
/// network.
async fn free_subnet(docker: &Docker) -> Result<Ipv4Net, InfraError> {
    let mut taken = host_routes();
    for network in docker
        .list_networks(None::<bollard::query_parameters::ListNetworksOptions>)
        .await
        .map_err(docker_err("ListNetworks"))?
    {
        let configs = network.ipam.and_then(|i| i.config).unwrap_or_default();
        taken.extend(
            configs
                .into_iter()
                .filter_map(|c| c.subnet?.parse::<Ipv4Net>().ok()),
        );
    }
    (213..=250u8)
        .map(|octet| Ipv4Net::new(Ipv4Addr::new(10, octet, 0, 0), 16).expect("valid prefix"))
        .find(|candidate| {
            !taken
                .iter()
                .any(|t| t.contains(&candidate.network()) || candidate.contains(&t.network()))
        })
        .ok_or_else(|| {
            InfraError::NoSubnet(
                "10.213.0.0/16 to 10.250.0.0/16 are all in use; pass --subnet".into(),
            )
        })
}

/// IPv4 routes of the host, from `/proc/net/route` (hex, little-endian).
fn host_routes() -> Vec<Ipv4Net> {
    let Ok(table) = std::fs::read_to_string("/proc/net/route") else {
        return Vec::new();
    };
    table
        .lines()
        .skip(1)
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let dest = u32::from_str_radix(fields.get(1)?, 16).ok()?;
            let mask = u32::from_str_radix(fields.get(7)?, 16).ok()?;
            if mask == 0 {
                return None; // the default route overlaps everything and nothing
            }
            let addr = Ipv4Addr::from(dest.swap_bytes());
            Ipv4Net::new(addr, mask.count_ones() as u8).ok()
        })
        .collect()
}

/// What [`remove_labelled`] did.
#[derive(Debug, Default)]
pub struct Removed {
    pub containers: usize,
    pub networks: usize,
    pub problems: Vec<String>,
}

/// Containers and networks carrying the run label (of run `run`, or of any run), each as
/// `(id, run id)`.
type Labelled = (Vec<(String, String)>, Vec<(String, String)>);

async fn list_labelled(docker: &Docker, run: Option<&str>) -> Result<Labelled, InfraError> {
    let label = match run {
        Some(id) => format!("{RUN_LABEL}={id}"),
        None => RUN_LABEL.to_owned(),
    };
    let filters = HashMap::from([("label", vec![label.as_str()])]);
    let run_of = |labels: Option<HashMap<String, String>>| {
        labels
            .and_then(|mut l| l.remove(RUN_LABEL))
            .unwrap_or_default()
    };
    let containers = docker
        .list_containers(Some(
            ListContainersOptionsBuilder::default()
                .all(true)
                .filters(&filters)
                .build(),
        ))
        .await
        .map_err(docker_err("ListContainers"))?
        .into_iter()
        .filter_map(|c| Some((c.id?, run_of(c.labels))))
        .collect();
    let networks = docker
        .list_networks(Some(
            ListNetworksOptionsBuilder::default()
                .filters(&filters)
                .build(),
        ))
        .await
        .map_err(docker_err("ListNetworks"))?
        .into_iter()
        .filter_map(|n| Some((n.id?, run_of(n.labels))))
        .collect();
    Ok((containers, networks))
}

/// Removes the containers and networks of run `run` (or of every run), matched by label.
///
/// Containers leave their networks one at a time before they are removed: Docker 20.10 can
/// lose count of a network's endpoints when many containers on it are removed at once, and
/// then refuses to remove the network ("has active endpoints") until the daemon restarts.
pub async fn remove_labelled(docker: &Docker, run: Option<&str>) -> Removed {
    let mut removed = Removed::default();
    let (containers, networks) = match list_labelled(docker, run).await {
        Ok(found) => found,
        Err(e) => {
            removed.problems.push(e.to_string());
            return removed;
        }
    };
    for (network, _) in &networks {
        for (container, _) in &containers {
            let request = NetworkDisconnectRequest {
                container: container.clone(),
                force: Some(true),
            };
            // A container that is not attached (any more) is what we want anyway.
            let _ = docker.disconnect_network(network, request).await;
        }
    }
    let outcomes: Vec<Result<(), String>> = futures::stream::iter(&containers)
        .map(|(id, _)| async move {
            docker
                .remove_container(
                    id,
                    Some(
                        RemoveContainerOptionsBuilder::default()
                            .force(true)
                            .v(true)
                            .build(),
                    ),
                )
                .await
                .map_err(|e| format!("removing container {id}: {e}"))
        })
        .buffer_unordered(LAUNCH_CONCURRENCY)
        .collect()
        .await;
    for outcome in outcomes {
        match outcome {
            Ok(()) => removed.containers += 1,
            Err(e) => removed.problems.push(e),
        }
    }
    for (network, _) in &networks {
        match remove_network(docker, network).await {
            Ok(()) => removed.networks += 1,
            Err(e) => removed.problems.push(e),
        }
    }
    removed
}

/// Removes a network, waiting up to 10 s for Docker to release its last endpoints.
async fn remove_network(docker: &Docker, id: &str) -> Result<(), String> {
    let mut attempts = 0;
    loop {
        match docker.remove_network(id).await {
            Ok(()) => return Ok(()),
            Err(e) if attempts < 20 && e.to_string().contains("active endpoints") => {
                attempts += 1;
                tokio::time::sleep(std::time::Duration::from_millis(500)).await;
            }
            Err(e) => return Err(format!("removing network {id}: {e}")),
        }
    }
}

/// Containers and networks of each run still present, by run id.
pub async fn leftovers(docker: &Docker) -> Result<HashMap<String, (usize, usize)>, InfraError> {
    let (containers, networks) = list_labelled(docker, None).await?;
    let mut runs: HashMap<String, (usize, usize)> = HashMap::new();
    for (_, run) in containers {
        runs.entry(run).or_default().0 += 1;
    }
    for (_, run) in networks {
        runs.entry(run).or_default().1 += 1;
    }
    Ok(runs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn build_context_holds_dockerfile_and_executable_binary() {
        let tar_bytes = build_context(b"\x7fELF fake").unwrap();
        let mut archive = tar::Archive::new(&tar_bytes[..]);
        let entries: Vec<(String, u32, u64)> = archive
            .entries()
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                let header = e.header();
                (
                    e.path().unwrap().display().to_string(),
                    header.mode().unwrap(),
                    header.size().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            entries,
            [
                ("Dockerfile".into(), 0o644, DOCKERFILE.len() as u64),
                ("p2p-node".into(), 0o755, 9),
                (
                    "sample-package.txt".into(),
                    0o644,
                    super::super::SAMPLE_PACKAGE.len() as u64
                ),
            ]
        );
        assert!(
            DOCKERFILE.starts_with("FROM scratch"),
            "the image must need no pull"
        );
    }

    #[test]
    fn host_routes_parse() {
        // Whatever the host has, parsing must not panic and must skip the default route.
        assert!(host_routes().iter().all(|r| r.prefix_len() > 0));
    }
}
