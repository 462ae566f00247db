//! Containers as a container engine (Docker, Podman) describes them: what stands behind a
//! `docker-proxy` socket, and the ports an engine publishes with no process listening at all.

use std::net::IpAddr;
use std::sync::Arc;

use super::{OsText, Proto};

/// One port a container publishes on the host.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PublishedPort {
    pub proto: Proto,
    /// The host address it is published on; `None` when the engine did not say (all addresses).
    pub host_addr: Option<IpAddr>,
    pub host_port: u16,
    /// The port inside the container.
    pub container_port: u16,
}

/// A running container, as the engine's API lists it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Container {
    /// The full id (64 hex digits on Docker).
    pub id: String,
    /// The name without Docker's leading `/`.
    pub name: OsText,
    pub image: OsText,
    /// `com.docker.compose.project` and `.service`, when compose started it.
    pub compose: Option<(OsText, OsText)>,
    /// The container's own addresses on its networks.
    pub addresses: Vec<IpAddr>,
    pub ports: Vec<PublishedPort>,
}

impl Container {
    /// The first 12 digits of the id, as `docker ps` shows it.
    pub fn short_id(&self) -> &str {
        self.id.get(..12).unwrap_or(&self.id)
    }

    /// `web (nginx:1.27)` or `shop-web-1 (nginx:1.27, compose shop/web)`: how every view names it.
    pub fn label(&self) -> String {
        match &self.compose {
            Some((project, service)) => {
                format!(
                    "{} ({}, compose {project}/{service})",
                    self.name, self.image
                )
            }
            None => format!("{} ({})", self.name, self.image),
        }
    }

    /// The published port that serves `proto` on host port `port` reached at `addr`: an exact
    /// address, or one published on every address.
    pub fn publishing(&self, proto: Proto, addr: IpAddr, port: u16) -> Option<&PublishedPort> {
        self.ports.iter().find(|p| {
            p.proto == proto
                && p.host_port == port
                && p.host_addr.is_none_or(|host| {
                    host == addr || (host.is_unspecified() && same_family(host, addr))
                })
        })
    }
}

fn same_family(a: IpAddr, b: IpAddr) -> bool {
    a.is_ipv4() == b.is_ipv4()
}

/// Where the container engine was asked, and what it said.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub enum EngineView {
    /// No engine socket exists here (or nobody asked): nothing to say.
    #[default]
    Absent,
    /// An engine socket exists (or `DOCKER_HOST` names one) but could not be asked: the reason,
    /// said once, and the proxies' command lines are all there is to go on.
    Unreachable { endpoint: String, reason: String },
    /// The engine answered: its running containers.
    Listed {
        endpoint: String,
        containers: Vec<Arc<Container>>,
    },
}

impl EngineView {
    pub fn containers(&self) -> &[Arc<Container>] {
        match self {
            EngineView::Listed { containers, .. } => containers,
            _ => &[],
        }
    }
}

/// Process names of the programs that hold a published port on an engine's behalf.
pub const PROXY_NAMES: [&str; 7] = [
    "docker-proxy",
    "conmon",
    "rootlessport",
    "rootlessport-child",
    "pasta",
    "pasta.avx2",
    "slirp4netns",
];

/// Whether a process of this name holds ports for a container engine.
pub fn is_engine_proxy(name: &str) -> bool {
    PROXY_NAMES.contains(&name)
}

/// What asking the engine to stop a container came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContainerStopped {
    /// The engine stopped it.
    Now,
    /// It was not running any more.
    Already,
    /// No container has that id any more (removed, or replaced by one of the same name).
    Gone,
    /// The engine could not be asked, or refused: why.
    Failed(String),
}

impl ContainerStopped {
    /// One line for the status bar or the terminal.
    pub fn message(&self, container: &Container) -> String {
        match self {
            ContainerStopped::Now => format!("container {} stopped", container.name),
            ContainerStopped::Already => {
                format!(
                    "container {} had already stopped; nothing was done",
                    container.name
                )
            }
            ContainerStopped::Gone => format!(
                "container {} ({}) no longer exists; nothing was stopped",
                container.name,
                container.short_id()
            ),
            ContainerStopped::Failed(reason) => format!(
                "cannot stop container {}: {}",
                container.name,
                super::inert(reason)
            ),
        }
    }
}
