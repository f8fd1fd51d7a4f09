//! The node image: `FROM scratch` with the static `p2p-node`, built from an in-memory tar
//! context and tagged by the hash of its content, so that a run reuses it while nothing
//! changed. Nothing is pulled.

use std::collections::HashMap;
use std::path::Path;

use bollard::query_parameters::BuildImageOptionsBuilder;
use bollard::Docker;
use futures::StreamExt;
use sha2::{Digest, Sha256};

use super::super::{docker_err, InfraError, SAMPLE_PACKAGE};

const IMAGE_REPOSITORY: &str = "p2p-testbed/node";
const DOCKERFILE: &str =
    "FROM scratch\nCOPY p2p-node /p2p-node\nCOPY sample-package.txt /sample-package.txt\nENTRYPOINT [\"/p2p-node\"]\n";
/// Where the image holds the file the CLI phase publishes.
pub const SAMPLE_FILE_IN_IMAGE: &str = "/sample-package.txt";

/// Builds the node image if needed and also tags it `p2p-testbed/node:latest` (what the
/// compose file runs). Returns the content-hash tag.
pub(super) async fn build_latest(
    docker: &Docker,
    binary: &Path,
    run_id: &str,
) -> Result<String, InfraError> {
    let tag = ensure(docker, binary, run_id).await?;
    let options = bollard::query_parameters::TagImageOptionsBuilder::default()
        .repo(IMAGE_REPOSITORY)
        .tag("latest")
        .build();
    docker
        .tag_image(&tag, Some(options))
        .await
        .map_err(docker_err("TagImage"))?;
    Ok(tag)
}

/// Builds the image unless one with the same content hash exists; returns its tag.
pub async fn ensure(docker: &Docker, binary: &Path, run_id: &str) -> Result<String, InfraError> {
    let bytes = tokio::fs::read(binary)
        .await
        .map_err(InfraError::io(format!("reading {}", binary.display())))?;
    let mut hasher = Sha256::new();
    hasher.update(DOCKERFILE.as_bytes());
    hasher.update(&bytes);
    let tag = format!(
        "{IMAGE_REPOSITORY}:{}",
        &hex::encode(hasher.finalize())[..16]
    );
    if docker.inspect_image(&tag).await.is_ok() {
        return Ok(tag);
    }
    let context =
        build_context(&bytes).map_err(InfraError::io("making the image's build context"))?;
    let labels = HashMap::from([
        ("p2p-testbed.image", "node"),
        ("p2p-testbed.built-by", run_id),
    ]);
    let options = BuildImageOptionsBuilder::default()
        .dockerfile("Dockerfile")
        .t(&tag)
        .rm(true)
        .forcerm(true)
        .labels(&labels)
        .build();
    let mut stream = docker.build_image(options, None, Some(bollard::body_full(context.into())));
    while let Some(info) = stream.next().await {
        let info = info.map_err(|e| InfraError::ImageBuild(explain_build_error(&e.to_string())))?;
        if let Some(detail) = info.error_detail.and_then(|d| d.message) {
            return Err(InfraError::ImageBuild(explain_build_error(&detail)));
        }
    }
    Ok(tag)
}

/// A tar holding the Dockerfile and the binary, made in memory.
fn build_context(binary: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut tar = tar::Builder::new(Vec::new());
    let files = [
        ("Dockerfile", DOCKERFILE.as_bytes(), 0o644),
        ("p2p-node", binary, 0o755),
        ("sample-package.txt", SAMPLE_PACKAGE.as_bytes(), 0o644),
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
                    SAMPLE_PACKAGE.len() as u64
                ),
            ]
        );
        assert!(
            DOCKERFILE.starts_with("FROM scratch"),
            "the image must need no pull"
        );
    }
}
