//! The run network's subnet: the first free /16 of a private range, avoiding the host's
//! routes and every Docker network.

use std::net::Ipv4Addr;

use bollard::Docker;
use ipnet::Ipv4Net;

use super::super::{docker_err, InfraError};

/// The first /16 in 10.213.0.0–10.250.0.0 that overlaps neither a host route nor a Docker
/// network.
pub(in crate::runtime) async fn free(docker: &Docker) -> Result<Ipv4Net, InfraError> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_routes_parse() {
        // Whatever the host has, parsing must not panic and must skip the default route.
        assert!(host_routes().iter().all(|r| r.prefix_len() > 0));
    }
}
