//! Each peer's container: created at its address and started, stopped and started again
//! (churn), inspected, and used to run the CLI next to the node.

use std::collections::HashMap;
use std::time::Instant;

use bollard::exec::{StartExecOptions, StartExecResults};
use bollard::models::{
    ContainerCreateBody, EndpointIpamConfig, EndpointSettings, ExecConfig, HostConfig,
    NetworkingConfig,
};
use bollard::query_parameters::{
    CreateContainerOptionsBuilder, StatsOptionsBuilder, StopContainerOptionsBuilder,
};
use bollard::Docker;
use futures::StreamExt;

use super::super::{docker_err, node_args, CliRun, InfraError, NodeOptions, PeerSlot};
use super::{DockerRuntime, API_PORT, P2P_PORT};

/// Grace period between SIGTERM and SIGKILL when a peer is stopped.
pub(in crate::runtime) const STOP_GRACE_SECS: i32 = 5;

impl DockerRuntime {
    pub(in crate::runtime) async fn stop_peer(&mut self, index: usize) -> Result<(), InfraError> {
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

    pub(in crate::runtime) async fn restart_peer(
        &mut self,
        index: usize,
    ) -> Result<(), InfraError> {
        let name = self.container(index)?;
        self.docker
            .start_container(
                &name,
                None::<bollard::query_parameters::StartContainerOptions>,
            )
            .await
            .map_err(docker_err("StartContainer"))
    }

    /// The network namespace of peer `index`'s container.
    pub(in crate::runtime) async fn netns(&self, index: usize) -> Option<std::path::PathBuf> {
        netns_of(&self.docker, &self.container(index).ok()?).await
    }

    pub(in crate::runtime) async fn is_running(&mut self, index: usize) -> bool {
        match self.container(index) {
            Ok(name) => is_running(&self.docker, &name).await,
            Err(_) => false,
        }
    }

    pub(in crate::runtime) async fn run_cli(
        &self,
        index: usize,
        args: &[String],
    ) -> Result<CliRun, InfraError> {
        exec_cli(&self.docker, &self.container(index)?, args).await
    }

    pub(in crate::runtime) async fn container_memory(&self, index: usize) -> Option<u64> {
        memory_of(&self.docker, &self.container(index).ok()?).await
    }
}

/// The network namespace of `container` (`/proc/<pid>/ns/net`), while it runs.
pub(in crate::runtime) async fn netns_of(
    docker: &Docker,
    container: &str,
) -> Option<std::path::PathBuf> {
    let pid = docker
        .inspect_container(
            container,
            None::<bollard::query_parameters::InspectContainerOptions>,
        )
        .await
        .ok()?
        .state?
        .pid?;
    (pid > 0).then(|| std::path::PathBuf::from(format!("/proc/{pid}/ns/net")))
}

/// Whether `container` is running.
pub(in crate::runtime) async fn is_running(docker: &Docker, container: &str) -> bool {
    docker
        .inspect_container(
            container,
            None::<bollard::query_parameters::InspectContainerOptions>,
        )
        .await
        .ok()
        .and_then(|c| c.state)
        .and_then(|s| s.running)
        .unwrap_or(false)
}

/// Runs `p2p-node <args>` inside `container` (a peer's), against its node, and times it.
pub(in crate::runtime) async fn exec_cli(
    docker: &Docker,
    container: &str,
    args: &[String],
) -> Result<CliRun, InfraError> {
    let mut cmd = vec!["/p2p-node".to_owned()];
    cmd.extend(args.iter().cloned());
    cmd.extend(["--node".to_owned(), format!("http://127.0.0.1:{API_PORT}")]);
    let started = Instant::now();
    let exec = docker
        .create_exec(
            container,
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
    match docker
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
    let inspect = docker
        .inspect_exec(&exec.id)
        .await
        .map_err(docker_err("InspectExec"))?;
    Ok(CliRun::new(elapsed, inspect.exit_code == Some(0), output))
}

/// Memory of `container` as Docker accounts it, page cache left out.
pub(in crate::runtime) async fn memory_of(docker: &Docker, container: &str) -> Option<u64> {
    let options = StatsOptionsBuilder::default()
        .stream(false)
        .one_shot(true)
        .build();
    let stats = docker.stats(container, Some(options)).next().await?.ok()?;
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

pub(super) async fn create_and_start(
    docker: &Docker,
    slot: &PeerSlot,
    image: &str,
    network: &str,
    labels: HashMap<String, String>,
    options: &NodeOptions,
) -> Result<String, InfraError> {
    let cmd = node_args(
        std::net::Ipv4Addr::UNSPECIFIED,
        P2P_PORT,
        "0.0.0.0",
        API_PORT,
        "/data",
        options,
    );
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
        // The CLI run next to the node (`docker exec`) inherits it, token included.
        env: Some(
            options
                .env()
                .into_iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect(),
        ),
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
    let created = docker
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
        .map_err(docker_err("StartContainer"))?;
    Ok(created.id)
}
