//! Doing something inside another network namespace (a Swarm overlay network's, where its
//! bridge is): on a thread of its own that enters the namespace, so that the rest of the
//! process stays in the host's. Sockets opened there keep the namespace they were opened in.

use std::path::Path;

use nix::sched::{setns, CloneFlags};

use crate::error::ShapeError;

/// Runs `f` in the network namespace at `namespace`, or right here when `None`.
pub(crate) fn within<T, F>(namespace: Option<&Path>, f: F) -> Result<T, ShapeError>
where
    T: Send,
    F: FnOnce() -> T + Send,
{
    let Some(path) = namespace else {
        return Ok(f());
    };
    let file = std::fs::File::open(path).map_err(|source| ShapeError::File {
        path: path.to_owned(),
        source,
    })?;
    std::thread::scope(|scope| {
        let entered = scope.spawn(move || setns(&file, CloneFlags::CLONE_NEWNET).map(|()| f()));
        match entered.join() {
            Ok(Ok(out)) => Ok(out),
            Ok(Err(errno)) => Err(ShapeError::File {
                path: path.to_owned(),
                source: std::io::Error::from(errno),
            }),
            Err(panic) => std::panic::resume_unwind(panic),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_a_namespace_it_runs_here_and_a_missing_one_is_named() {
        assert_eq!(within(None, || 7).unwrap(), 7);
        let e = within(Some(Path::new("/nonexistent/ns/net")), || 7).unwrap_err();
        assert!(e.to_string().contains("/nonexistent/ns/net"), "{e}");
    }
}
