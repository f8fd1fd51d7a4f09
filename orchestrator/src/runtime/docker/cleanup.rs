//! Removing what a run created, found by its label alone, so that it works after a crash
//! too; and listing what runs left.

use std::collections::HashMap;

use bollard::models::NetworkDisconnectRequest;
use bollard::query_parameters::{
    ListContainersOptionsBuilder, ListNetworksOptionsBuilder, RemoveContainerOptionsBuilder,
};
use bollard::Docker;
use futures::StreamExt;

use super::super::{docker_err, InfraError, RUN_LABEL};
use super::LAUNCH_CONCURRENCY;

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

/// The label filter matching run `run`, or every run.
pub(in crate::runtime) fn label_filter(run: Option<&str>) -> String {
    match run {
        Some(id) => format!("{RUN_LABEL}={id}"),
        None => RUN_LABEL.to_owned(),
    }
}

/// The run id among `labels` (empty when there is none).
pub(in crate::runtime) fn run_of(labels: Option<HashMap<String, String>>) -> String {
    labels
        .and_then(|mut l| l.remove(RUN_LABEL))
        .unwrap_or_default()
}

async fn list_labelled(docker: &Docker, run: Option<&str>) -> Result<Labelled, InfraError> {
    let label = label_filter(run);
    let filters = HashMap::from([("label", vec![label.as_str()])]);
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
                .or_else(gone_already)
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
        match docker.remove_network(id).await.or_else(gone_already) {
            Ok(()) => return Ok(()),
            Err(e) if attempts < 20 && e.to_string().contains("active endpoints") => {
                attempts += 1;
                tokio::time::sleep(std::time::Duration::from_millis(500)).await;
            }
            Err(e) => return Err(format!("removing network {id}: {e}")),
        }
    }
}

/// A 404: what was to be removed is gone already (another cleanup of the same run, the
/// reaper and `orchestrator down` say, got there first), which is what was wanted. Docker
/// 20.10 answers 500 "network … not found" instead when a swarm network went meanwhile (seen
/// here when `down` and the reaper removed a killed swarm run at once).
pub(in crate::runtime) fn gone_already(
    e: bollard::errors::Error,
) -> Result<(), bollard::errors::Error> {
    match e {
        bollard::errors::Error::DockerResponseServerError {
            status_code: 404, ..
        } => Ok(()),
        bollard::errors::Error::DockerResponseServerError {
            status_code: 500,
            ref message,
        } if message.ends_with(" not found") => Ok(()),
        e => Err(e),
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

    fn server_error(status_code: u16, message: &str) -> bollard::errors::Error {
        bollard::errors::Error::DockerResponseServerError {
            status_code,
            message: message.to_owned(),
        }
    }

    #[test]
    fn only_what_is_gone_already_counts_as_removed() {
        assert!(gone_already(server_error(404, "No such container: abc")).is_ok());
        assert!(gone_already(server_error(500, "network fuablmdhl9eh not found")).is_ok());
        assert!(gone_already(server_error(500, "network abc has active endpoints")).is_err());
        assert!(
            gone_already(server_error(409, "removal of container abc is in progress")).is_err()
        );
    }
}
