//! Before the peers of a swarm of several nodes are created: every node that may run one has
//! the node image.
//!
//! No registry is used, so each node needs the image itself, loaded with `docker save |
//! docker load` (which keeps the id the tasks name it by, so no node tries to pull it). A node
//! without it rejects every task placed on it: one peer at a time, after the network and the
//! other peers were created. Checked first, the run names every such node and what to run on
//! it, before it creates anything else.
//!
//! The check is a global job of the image: one task on every node that takes tasks, which
//! runs `p2p-node --version` and completes. It carries the run label (so that `orchestrator
//! down` removes it after a SIGKILL) and is removed, with its task containers, as soon as
//! every node has answered.

use std::collections::{BTreeMap, HashMap};
use std::time::Instant;

use bollard::models::{
    ServiceSpec, ServiceSpecMode, TaskSpec, TaskSpecContainerSpec, TaskSpecRestartPolicy,
    TaskSpecRestartPolicyConditionEnum, TaskState,
};
use bollard::Docker;

use super::super::{docker_err, InfraError, RUN_LABEL};
use super::cleanup::remove_ended_service;
use super::preflight::Cluster;
use super::service::{tasks, POLL, TASK_DEADLINE};

/// What the check found on one node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum NodeImage {
    Present,
    Missing,
    /// The task ended otherwise: its state and error.
    Failed(String),
    /// No task of the check ended on the node before the deadline.
    NoAnswer,
}

/// Runs the check for image `image_id` (named `tag` to the user) on every node of `cluster`
/// that takes tasks; `Ok` when every one of them has it.
pub(super) async fn check(
    docker: &Docker,
    cluster: &Cluster,
    image_id: &str,
    tag: &str,
    run_id: &str,
) -> Result<(), InfraError> {
    let name = format!("p2p-{run_id}-image-check");
    docker
        .create_service(spec(&name, image_id, run_id), None)
        .await
        .map_err(docker_err("CreateService"))?;
    let found = wait(docker, &name, cluster).await;
    let removed = remove_ended_service(docker, &name).await;
    let found = found?;
    removed.map_err(InfraError::Swarm)?;
    verdict(cluster, &found, tag)
}

fn spec(name: &str, image_id: &str, run_id: &str) -> ServiceSpec {
    let labels = HashMap::from([(RUN_LABEL.to_owned(), run_id.to_owned())]);
    ServiceSpec {
        name: Some(name.to_owned()),
        labels: Some(labels.clone()),
        task_template: Some(TaskSpec {
            container_spec: Some(TaskSpecContainerSpec {
                image: Some(image_id.to_owned()),
                args: Some(vec!["--version".to_owned()]),
                labels: Some(labels),
                ..Default::default()
            }),
            // One answer per node: a task that fails is not started again.
            restart_policy: Some(TaskSpecRestartPolicy {
                condition: Some(TaskSpecRestartPolicyConditionEnum::NONE),
                ..Default::default()
            }),
            ..Default::default()
        }),
        mode: Some(ServiceSpecMode {
            global_job: Some(HashMap::new()),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// What one task of the check says about its node, once it has ended.
fn outcome(state: TaskState, err: Option<&str>) -> Option<NodeImage> {
    match state {
        TaskState::COMPLETE => Some(NodeImage::Present),
        TaskState::REJECTED | TaskState::FAILED => {
            let err = err.unwrap_or("no reason given");
            Some(if err.contains("No such image") {
                NodeImage::Missing
            } else {
                NodeImage::Failed(format!("{state}: {err}"))
            })
        }
        TaskState::SHUTDOWN | TaskState::ORPHANED | TaskState::REMOVE => {
            Some(NodeImage::Failed(state.to_string()))
        }
        _ => None,
    }
}

/// Waits until the check has ended on every node that takes tasks, or the deadline passed.
async fn wait(
    docker: &Docker,
    service: &str,
    cluster: &Cluster,
) -> Result<BTreeMap<String, NodeImage>, InfraError> {
    let deadline = Instant::now() + TASK_DEADLINE;
    let expected: Vec<&String> = cluster
        .nodes
        .iter()
        .filter(|(_, node)| node.takes_tasks)
        .map(|(id, _)| id)
        .collect();
    loop {
        let mut found = BTreeMap::new();
        for task in tasks(docker, service).await? {
            let (Some(node), Some(status)) = (task.node_id, task.status) else {
                continue;
            };
            if let Some(ended) = status
                .state
                .and_then(|state| outcome(state, status.err.as_deref()))
            {
                found.insert(node, ended);
            }
        }
        let pending: Vec<String> = expected
            .iter()
            .filter(|id| !found.contains_key(**id))
            .map(|id| (*id).clone())
            .collect();
        if pending.is_empty() {
            return Ok(found);
        }
        if Instant::now() > deadline {
            found.extend(pending.into_iter().map(|id| (id, NodeImage::NoAnswer)));
            return Ok(found);
        }
        tokio::time::sleep(POLL).await;
    }
}

/// `Ok` when every node has the image; otherwise what each other node said, and how to load
/// the image where it is missing.
fn verdict(
    cluster: &Cluster,
    found: &BTreeMap<String, NodeImage>,
    tag: &str,
) -> Result<(), InfraError> {
    let hostname = |id: &str| {
        cluster
            .nodes
            .get(id)
            .map_or_else(|| id.to_owned(), |n| n.hostname.clone())
    };
    let mut missing = Vec::new();
    let mut problems = Vec::new();
    for (node, image) in found {
        match image {
            NodeImage::Present => {}
            NodeImage::Missing => missing.push(hostname(node)),
            NodeImage::Failed(why) => {
                problems.push(format!("the check failed on {}: {why}", hostname(node)))
            }
            NodeImage::NoAnswer => problems.push(format!(
                "{} did not run the check within {TASK_DEADLINE:?}",
                hostname(node)
            )),
        }
    }
    if missing.is_empty() && problems.is_empty() {
        return Ok(());
    }
    let mut parts = Vec::new();
    if !missing.is_empty() {
        parts.push(format!(
            "the node image {tag} is missing on {} (no registry is used, so every node needs it \
             itself): `docker save {tag} | ssh <node> docker load` for each",
            missing.join(", ")
        ));
    }
    parts.extend(problems);
    Err(InfraError::Swarm(parts.join("; ")))
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use super::super::preflight::SwarmNode;
    use super::*;

    fn cluster(nodes: &[(&str, &str)]) -> Cluster {
        Cluster {
            local_node: nodes[0].0.to_owned(),
            nodes: nodes
                .iter()
                .map(|&(id, hostname)| {
                    let node = SwarmNode {
                        hostname: hostname.to_owned(),
                        addr: Ipv4Addr::LOCALHOST,
                        takes_tasks: true,
                    };
                    (id.to_owned(), node)
                })
                .collect(),
        }
    }

    #[test]
    fn a_task_that_ended_says_what_its_node_has() {
        assert_eq!(outcome(TaskState::COMPLETE, None), Some(NodeImage::Present));
        assert_eq!(
            outcome(
                TaskState::REJECTED,
                Some("No such image: sha256:0123456789ab")
            ),
            Some(NodeImage::Missing)
        );
        assert_eq!(
            outcome(TaskState::FAILED, Some("task: non-zero exit (1)")),
            Some(NodeImage::Failed(
                "failed: task: non-zero exit (1)".to_owned()
            ))
        );
        assert_eq!(outcome(TaskState::RUNNING, None), None);
        assert_eq!(outcome(TaskState::PENDING, None), None);
    }

    #[test]
    fn the_verdict_names_every_node_without_the_image_and_how_to_load_it() {
        let cluster = cluster(&[("n1", "alpha"), ("n2", "beta"), ("n3", "gamma")]);
        let all_there = BTreeMap::from([
            ("n1".to_owned(), NodeImage::Present),
            ("n2".to_owned(), NodeImage::Present),
            ("n3".to_owned(), NodeImage::Present),
        ]);
        assert!(verdict(&cluster, &all_there, "p2p-testbed/node:abc").is_ok());

        let found = BTreeMap::from([
            ("n1".to_owned(), NodeImage::Present),
            ("n2".to_owned(), NodeImage::Missing),
            ("n3".to_owned(), NodeImage::NoAnswer),
        ]);
        let message = verdict(&cluster, &found, "p2p-testbed/node:abc")
            .unwrap_err()
            .to_string();
        assert!(message.contains("missing on beta"), "{message}");
        assert!(
            message.contains("docker save p2p-testbed/node:abc | ssh <node> docker load"),
            "{message}"
        );
        assert!(message.contains("gamma did not run the check"), "{message}");
        assert!(!message.contains("alpha"), "{message}");
    }
}
