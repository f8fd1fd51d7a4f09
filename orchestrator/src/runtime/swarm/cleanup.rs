//! Removing a run's services and volumes, found by the run label alone (so that it works
//! after a SIGKILL too), and listing what runs left. The network goes with the Docker
//! runtime's removal ([`super::super::docker::remove_labelled`]), after the services.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use bollard::query_parameters::{
    ListContainersOptionsBuilder, ListServicesOptionsBuilder, ListVolumesOptionsBuilder,
    RemoveContainerOptionsBuilder, RemoveVolumeOptionsBuilder, StopContainerOptionsBuilder,
};
use bollard::Docker;

use super::super::docker::lifecycle::STOP_GRACE_SECS;
use super::super::docker::{gone_already, label_filter, run_of};
use super::super::{docker_err, InfraError};

/// How long the tasks of removed services may take to be gone, and volumes to be free.
const GONE_DEADLINE: Duration = Duration::from_secs(60);

/// Services of run `run` (or of every run), as `(name, run id)`. An engine outside a swarm
/// has none.
async fn services(docker: &Docker, run: Option<&str>) -> Result<Vec<(String, String)>, InfraError> {
    let label = label_filter(run);
    let filters = HashMap::from([("label", vec![label.as_str()])]);
    match docker
        .list_services(Some(
            ListServicesOptionsBuilder::default()
                .filters(&filters)
                .build(),
        ))
        .await
    {
        Ok(list) => Ok(list
            .into_iter()
            .filter_map(|s| {
                let spec = s.spec?;
                Some((spec.name?, run_of(spec.labels)))
            })
            .collect()),
        // 503: "This node is not a swarm manager" — no swarm, no services.
        Err(bollard::errors::Error::DockerResponseServerError {
            status_code: 503, ..
        }) => Ok(Vec::new()),
        Err(e) => Err(docker_err("ListServices")(e)),
    }
}

async fn volumes(docker: &Docker, run: Option<&str>) -> Result<Vec<(String, String)>, InfraError> {
    let label = label_filter(run);
    let filters = HashMap::from([("label", vec![label.as_str()])]);
    Ok(docker
        .list_volumes(Some(
            ListVolumesOptionsBuilder::default()
                .filters(&filters)
                .build(),
        ))
        .await
        .map_err(docker_err("ListVolumes"))?
        .volumes
        .unwrap_or_default()
        .into_iter()
        .map(|v| (v.name, run_of(Some(v.labels))))
        .collect())
}

/// Removes the services of run `run` (or of every run). Their task containers on this node
/// are stopped first, one at a time: Docker 20.10 loses count of `docker_gwbridge`'s
/// endpoints when many containers on it stop at once (as the swarm stops them when their
/// services go), and then refuses to remove that network until the daemon restarts (seen
/// here: 1 run in 2 at 20 peers). Each service's task has stopped before the next service
/// goes too, for tasks on other nodes. The stopped containers, which the swarm removes a few
/// seconds later, are waited for together. Returns how many services were removed, and what
/// could not be.
pub async fn remove_services(docker: &Docker, run: Option<&str>) -> (usize, Vec<String>) {
    let found = match services(docker, run).await {
        Ok(found) => found,
        Err(e) => return (0, vec![p2p_api::error::chain(&e)]),
    };
    let mut problems = stop_task_containers(docker, &label_filter(run)).await;
    let mut removed = 0;
    for (name, _) in &found {
        match docker.delete_service(name).await.or_else(gone_already) {
            Ok(()) => removed += 1,
            Err(e) => problems.push(format!("removing service {name}: {e}")),
        }
        let label = format!("com.docker.swarm.service.name={name}");
        if let Err(e) = wait_containers(docker, &label, Left::Running).await {
            problems.push(e);
        }
    }
    if !found.is_empty() {
        if let Err(e) = wait_containers(docker, &label_filter(run), Left::Any).await {
            problems.push(e);
        }
    }
    (removed, problems)
}

/// Removes the service `name` of tasks that have ended, and their containers on this node.
/// The swarm leaves the container of a completed job task in place after its service is gone
/// (seen here: still there a minute later), so they are removed here.
pub(super) async fn remove_ended_service(docker: &Docker, name: &str) -> Result<(), String> {
    docker
        .delete_service(name)
        .await
        .or_else(gone_already)
        .map_err(|e| format!("removing service {name}: {e}"))?;
    let label = format!("com.docker.swarm.service.name={name}");
    for id in task_containers(docker, &label, Left::Any).await? {
        docker
            .remove_container(
                &id,
                Some(RemoveContainerOptionsBuilder::default().force(true).build()),
            )
            .await
            .or_else(gone_already)
            .map_err(|e| format!("removing task container {id} of {name}: {e}"))?;
    }
    // A forced removal is done when it returns: nothing is left to wait for.
    Ok(())
}

/// Stops the running task containers labelled `label` on this node, one after the other. A
/// node stops cleanly (exit 0) on SIGTERM, which the swarm does not restart.
async fn stop_task_containers(docker: &Docker, label: &str) -> Vec<String> {
    let running = match task_containers(docker, label, Left::Running).await {
        Ok(ids) => ids,
        Err(e) => return vec![e],
    };
    let mut problems = Vec::new();
    for id in running {
        let options = StopContainerOptionsBuilder::default()
            .t(STOP_GRACE_SECS)
            .build();
        if let Err(e) = docker
            .stop_container(&id, Some(options))
            .await
            .or_else(gone_already)
        {
            // 304: stopped already.
            if !matches!(
                e,
                bollard::errors::Error::DockerResponseServerError {
                    status_code: 304,
                    ..
                }
            ) {
                problems.push(format!("stopping task container {id}: {e}"));
            }
        }
    }
    problems
}

/// Which task containers count: [`wait_containers`] waits to see them gone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Left {
    /// Running ones: the rest have let go of their network endpoints.
    Running,
    /// Any: removed.
    Any,
}

/// The ids of the task containers on this node labelled `label` (running ones, or all).
async fn task_containers(docker: &Docker, label: &str, which: Left) -> Result<Vec<String>, String> {
    let filters = HashMap::from([("label", vec![label, "com.docker.swarm.task.id"])]);
    Ok(docker
        .list_containers(Some(
            ListContainersOptionsBuilder::default()
                .all(which == Left::Any)
                .filters(&filters)
                .build(),
        ))
        .await
        .map_err(|e| format!("listing task containers ({label}): {e}"))?
        .into_iter()
        .filter_map(|c| c.id)
        .collect())
}

/// Waits until no task container labelled `label` is left (running, or at all).
async fn wait_containers(docker: &Docker, label: &str, until: Left) -> Result<(), String> {
    let deadline = Instant::now() + GONE_DEADLINE;
    loop {
        let left = task_containers(docker, label, until).await?.len();
        if left == 0 {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(format!(
                "{left} task container(s) ({label}) still {} {GONE_DEADLINE:?} after their service was removed",
                match until {
                    Left::Running => "running",
                    Left::Any => "present",
                }
            ));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Removes the volumes (the peers' identities) of run `run`, or of every run.
pub async fn remove_volumes(docker: &Docker, run: Option<&str>) -> (usize, Vec<String>) {
    let found = match volumes(docker, run).await {
        Ok(found) => found,
        Err(e) => return (0, vec![p2p_api::error::chain(&e)]),
    };
    let mut removed = 0;
    let mut problems = Vec::new();
    for (name, _) in &found {
        let deadline = Instant::now() + GONE_DEADLINE;
        loop {
            match docker
                .remove_volume(name, Some(RemoveVolumeOptionsBuilder::default().build()))
                .await
                .or_else(gone_already)
            {
                Ok(()) => {
                    removed += 1;
                    break;
                }
                // 409: still in use by a container on its way out.
                Err(bollard::errors::Error::DockerResponseServerError {
                    status_code: 409, ..
                }) if Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(250)).await;
                }
                Err(e) => {
                    problems.push(format!("removing volume {name}: {e}"));
                    break;
                }
            }
        }
    }
    (removed, problems)
}

/// Services and volumes of each run still present, by run id.
pub async fn leftovers(docker: &Docker) -> Result<HashMap<String, (usize, usize)>, InfraError> {
    let mut runs: HashMap<String, (usize, usize)> = HashMap::new();
    for (_, run) in services(docker, None).await? {
        runs.entry(run).or_default().0 += 1;
    }
    for (_, run) in volumes(docker, None).await? {
        runs.entry(run).or_default().1 += 1;
    }
    Ok(runs)
}
