//! Before anything is created: the local engine must be a manager of an active swarm, and
//! the nodes the tasks may land on are listed with the address their published ports are
//! reached at.

use std::collections::HashMap;
use std::net::Ipv4Addr;

use bollard::models::{LocalNodeState, NodeSpecAvailabilityEnum, NodeState};
use bollard::Docker;

use super::super::{docker_err, InfraError};

/// The swarm as the run sees it.
#[derive(Debug, Clone)]
pub(super) struct Cluster {
    /// This engine's node id.
    pub local_node: String,
    /// Every ready node: its id, its hostname and the address it is reached at.
    pub nodes: HashMap<String, SwarmNode>,
}

#[derive(Debug, Clone)]
pub(super) struct SwarmNode {
    pub hostname: String,
    pub addr: Ipv4Addr,
    /// Whether the swarm places new tasks on it (availability `active`, not `pause` or
    /// `drain`).
    pub takes_tasks: bool,
}

/// Checks that this engine manages an active swarm and lists its ready nodes.
pub(super) async fn check(docker: &Docker) -> Result<Cluster, InfraError> {
    let info = docker.info().await.map_err(docker_err("Info"))?;
    let swarm = info.swarm.unwrap_or_default();
    match swarm.local_node_state {
        Some(LocalNodeState::ACTIVE) => {}
        state => {
            let state = state.map_or_else(|| "unknown".to_owned(), |s| s.to_string());
            return Err(InfraError::Swarm(format!(
                "this Docker engine is not part of an active swarm (state: {state}); \
                 `docker swarm init` here, or `docker swarm join` it to one, first"
            )));
        }
    }
    if swarm.control_available != Some(true) {
        return Err(InfraError::Swarm(
            "this Docker engine is a swarm worker, not a manager: run the orchestrator on a \
             manager (`docker node ls` there lists them)"
                .into(),
        ));
    }
    let local_node = swarm
        .node_id
        .ok_or_else(|| InfraError::Swarm("the engine reports no swarm node id".into()))?;
    let mut nodes = HashMap::new();
    for node in docker
        .list_nodes(None::<bollard::query_parameters::ListNodesOptions>)
        .await
        .map_err(docker_err("ListNodes"))?
    {
        let (Some(id), Some(status)) = (node.id, node.status) else {
            continue;
        };
        if status.state != Some(NodeState::READY) {
            continue;
        }
        let Some(addr) = status.addr.as_deref().and_then(|a| a.parse().ok()) else {
            continue;
        };
        let hostname = node
            .description
            .and_then(|d| d.hostname)
            .unwrap_or_else(|| id.clone());
        let takes_tasks =
            node.spec.and_then(|s| s.availability) == Some(NodeSpecAvailabilityEnum::ACTIVE);
        nodes.insert(
            id,
            SwarmNode {
                hostname,
                addr,
                takes_tasks,
            },
        );
    }
    if !nodes.contains_key(&local_node) {
        return Err(InfraError::Swarm(format!(
            "this engine's swarm node {local_node} is not ready"
        )));
    }
    Ok(Cluster { local_node, nodes })
}
