//! One replicated service of one task per peer: its spec, scaling it to 0 and back to 1
//! (churn), and waiting until its task runs.
//!
//! A service per peer, not one service of N replicas: peer `i` is service `i`, which keeps its
//! name, its published API port and its identity (a volume at `/data`) across restarts, and
//! can be stopped alone.

use std::collections::HashMap;
use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use bollard::models::{
    EndpointPortConfig, EndpointPortConfigProtocolEnum, EndpointPortConfigPublishModeEnum,
    EndpointSpec, EndpointSpecModeEnum, Limit, Mount, MountType, MountVolumeOptions,
    NetworkAttachmentConfig, ServiceSpec, ServiceSpecMode, ServiceSpecModeReplicated, Task,
    TaskSpec, TaskSpecContainerSpec, TaskSpecResources, TaskSpecRestartPolicy,
    TaskSpecRestartPolicyConditionEnum, TaskState,
};
use bollard::query_parameters::{ListTasksOptionsBuilder, UpdateServiceOptionsBuilder};
use bollard::Docker;

use super::super::docker::lifecycle::STOP_GRACE_SECS;
use super::super::docker::{API_PORT, P2P_PORT};
use super::super::{docker_err, node_args, InfraError, NodeOptions};

/// How long a task may take to run after its service was created or scaled up, and to be
/// gone after it was scaled down.
pub(super) const TASK_DEADLINE: Duration = Duration::from_secs(120);
pub(super) const POLL: Duration = Duration::from_millis(250);

/// What a service of the run needs to know to be created.
pub(super) struct PeerService<'a> {
    pub name: &'a str,
    pub image: &'a str,
    pub network_id: &'a str,
    pub subnet: ipnet::Ipv4Net,
    pub api_port: u16,
    pub labels: &'a HashMap<String, String>,
    pub options: &'a NodeOptions,
}

impl PeerService<'_> {
    pub(super) fn spec(&self) -> ServiceSpec {
        let mut args = node_args(
            Ipv4Addr::UNSPECIFIED,
            P2P_PORT,
            "0.0.0.0",
            API_PORT,
            "/data",
            self.options,
        );
        // A task is on the overlay and on docker_gwbridge: it listens (and so announces) on
        // its overlay address only.
        args.extend(["--listen-subnet".to_owned(), self.subnet.to_string()]);
        let container = TaskSpecContainerSpec {
            image: Some(self.image.to_owned()),
            args: Some(args),
            env: Some(
                self.options
                    .env()
                    .into_iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect(),
            ),
            labels: Some(self.labels.clone()),
            mounts: Some(vec![Mount {
                target: Some("/data".into()),
                source: Some(self.name.to_owned()),
                typ: Some(MountType::VOLUME),
                volume_options: Some(MountVolumeOptions {
                    labels: Some(self.labels.clone()),
                    ..Default::default()
                }),
                ..Default::default()
            }]),
            stop_grace_period: Some(Duration::from_secs(STOP_GRACE_SECS as u64).as_nanos() as i64),
            ..Default::default()
        };
        ServiceSpec {
            name: Some(self.name.to_owned()),
            labels: Some(self.labels.clone()),
            task_template: Some(TaskSpec {
                container_spec: Some(container),
                resources: Some(TaskSpecResources {
                    limits: Some(Limit {
                        nano_cpus: self.options.cpus.map(|c| (c * 1e9) as i64),
                        memory_bytes: self.options.memory_bytes.map(|m| m as i64),
                        ..Default::default()
                    }),
                    ..Default::default()
                }),
                // A crashed node is started again, and the run reports it.
                restart_policy: Some(TaskSpecRestartPolicy {
                    condition: Some(TaskSpecRestartPolicyConditionEnum::ON_FAILURE),
                    delay: Some(Duration::from_secs(1).as_nanos() as i64),
                    ..Default::default()
                }),
                networks: Some(vec![NetworkAttachmentConfig {
                    target: Some(self.network_id.to_owned()),
                    ..Default::default()
                }]),
                ..Default::default()
            }),
            mode: Some(replicated(1)),
            endpoint_spec: Some(EndpointSpec {
                mode: Some(EndpointSpecModeEnum::DNSRR),
                // Published on the task's node only, so that it reaches this task and no
                // other, wherever the task runs.
                ports: Some(vec![EndpointPortConfig {
                    protocol: Some(EndpointPortConfigProtocolEnum::TCP),
                    target_port: Some(i64::from(API_PORT)),
                    published_port: Some(i64::from(self.api_port)),
                    publish_mode: Some(EndpointPortConfigPublishModeEnum::HOST),
                    ..Default::default()
                }]),
            }),
            ..Default::default()
        }
    }
}

fn replicated(replicas: i64) -> ServiceSpecMode {
    ServiceSpecMode {
        replicated: Some(ServiceSpecModeReplicated {
            replicas: Some(replicas),
        }),
        ..Default::default()
    }
}

/// Sets the service's replicas to `replicas` (0 stops the peer, 1 starts it again).
pub(super) async fn scale(docker: &Docker, service: &str, replicas: i64) -> Result<(), InfraError> {
    let current = docker
        .inspect_service(
            service,
            None::<bollard::query_parameters::InspectServiceOptions>,
        )
        .await
        .map_err(docker_err("InspectService"))?;
    let version = current
        .version
        .and_then(|v| v.index)
        .and_then(|v| i32::try_from(v).ok())
        .ok_or_else(|| {
            InfraError::Swarm(format!("service {service} has no version the API can take"))
        })?;
    let mut spec = current
        .spec
        .ok_or_else(|| InfraError::Swarm(format!("service {service} has no spec")))?;
    spec.mode = Some(replicated(replicas));
    docker
        .update_service(
            service,
            spec,
            UpdateServiceOptionsBuilder::default()
                .version(version)
                .build(),
            None,
        )
        .await
        .map_err(docker_err("UpdateService"))?;
    Ok(())
}

/// Every task of `service`, whatever its state.
pub(super) async fn tasks(docker: &Docker, service: &str) -> Result<Vec<Task>, InfraError> {
    let filters = HashMap::from([("service", vec![service])]);
    docker
        .list_tasks(Some(
            ListTasksOptionsBuilder::default().filters(&filters).build(),
        ))
        .await
        .map_err(docker_err("ListTasks"))
}

/// A task that runs.
#[derive(Debug, Clone)]
pub(super) struct RunningTask {
    pub id: String,
    pub node: String,
    pub container: Option<String>,
}

/// Waits until `service` has a running task, and returns it. A task the swarm gave up on
/// (rejected: no such image on its node, port taken, …) ends the wait with its reason.
pub(super) async fn wait_running(
    docker: &Docker,
    service: &str,
) -> Result<RunningTask, InfraError> {
    let deadline = Instant::now() + TASK_DEADLINE;
    let mut last = String::from("no task yet");
    loop {
        for task in tasks(docker, service).await? {
            let status = task.status.clone().unwrap_or_default();
            match (task.desired_state, status.state) {
                (Some(TaskState::RUNNING), Some(TaskState::RUNNING)) => {
                    return Ok(RunningTask {
                        id: task.id.unwrap_or_default(),
                        node: task.node_id.unwrap_or_default(),
                        container: status.container_status.and_then(|c| c.container_id),
                    });
                }
                (_, Some(TaskState::REJECTED)) => {
                    return Err(InfraError::Peer {
                        peer: service.to_owned(),
                        detail: format!(
                            "the swarm rejected its task on node {}: {}",
                            task.node_id.as_deref().unwrap_or("?"),
                            status.err.as_deref().unwrap_or("no reason given")
                        ),
                    });
                }
                (Some(TaskState::RUNNING), state) => {
                    last = format!(
                        "task {}: {}",
                        state.map_or_else(|| "?".to_owned(), |s| s.to_string()),
                        status.err.or(status.message).unwrap_or_default()
                    );
                }
                _ => {}
            }
        }
        if Instant::now() > deadline {
            return Err(InfraError::Peer {
                peer: service.to_owned(),
                detail: format!("no task running after {TASK_DEADLINE:?} ({last})"),
            });
        }
        tokio::time::sleep(POLL).await;
    }
}

/// Waits until no task of `service` runs any more (after scaling it to 0).
pub(super) async fn wait_stopped(docker: &Docker, service: &str) -> Result<(), InfraError> {
    let deadline = Instant::now() + TASK_DEADLINE;
    loop {
        let running = tasks(docker, service).await?.into_iter().any(|t| {
            matches!(
                t.status.and_then(|s| s.state),
                Some(
                    TaskState::RUNNING
                        | TaskState::STARTING
                        | TaskState::PREPARING
                        | TaskState::ASSIGNED
                        | TaskState::ACCEPTED
                )
            )
        });
        if !running {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(InfraError::Peer {
                peer: service.to_owned(),
                detail: format!("its task still runs {TASK_DEADLINE:?} after it was stopped"),
            });
        }
        tokio::time::sleep(POLL).await;
    }
}
