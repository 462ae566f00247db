//! Where a forwarder sends what reaches a port it holds: `ssh -L`/`-R`/`-D`, `kubectl
//! port-forward`, `socat` and `docker-proxy`, as their command lines say. The process holding a
//! port is often not the answer people mean: the service is at the other end of the forward.
//!
//! Every name here came from a command line, so each is an [`OsText`], printed inert.

use std::fmt;
use std::net::IpAddr;

use super::{OsText, Proto, format_endpoint};

/// The program that forwards.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Forwarder {
    Ssh,
    Kubectl,
    Socat,
    DockerProxy,
}

impl Forwarder {
    /// The program's name, as the JSON `via` and every sentence give it.
    pub fn as_str(self) -> &'static str {
        match self {
            Forwarder::Ssh => "ssh",
            Forwarder::Kubectl => "kubectl",
            Forwarder::Socat => "socat",
            Forwarder::DockerProxy => "docker-proxy",
        }
    }
}

impl fmt::Display for Forwarder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which side listens, in ssh's terms (every other forwarder listens here, as `-L` does).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// Listens on this machine; the far side makes the connection (`ssh -L`, kubectl, socat,
    /// docker-proxy).
    Local,
    /// `ssh -R`: listens on the ssh server; this machine makes the connection.
    Remote,
    /// `ssh -D`: a SOCKS proxy here; each client names where it goes.
    Dynamic,
}

impl Direction {
    /// `local`, `remote`, `dynamic`: the JSON `kind`.
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Local => "local",
            Direction::Remote => "remote",
            Direction::Dynamic => "dynamic",
        }
    }
}

/// An address a forward listens on.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Bind {
    /// `localhost`: 127.0.0.1 and ::1.
    Loopback,
    /// Every interface, both families (`*`, an empty bind address, `ssh -g`).
    Wildcard,
    /// One address (`0.0.0.0` is one: the IPv4 wildcard only).
    Addr(IpAddr),
    /// A host name the forwarder resolves itself: any address may be it.
    Name(OsText),
}

impl fmt::Display for Bind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Bind::Loopback => f.write_str("localhost"),
            Bind::Wildcard => f.write_str("*"),
            Bind::Addr(addr) => write!(f, "{addr}"),
            Bind::Name(name) => write!(f, "{name}"),
        }
    }
}

/// Where a forward listens.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Listen {
    /// A port on these addresses; `port` is `None` when the forwarder picks it (kubectl `:5000`)
    /// or its command line does not say.
    Port { binds: Vec<Bind>, port: Option<u16> },
    /// A Unix socket.
    Path(OsText),
}

impl fmt::Display for Listen {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Listen::Path(path) => write!(f, "{path}"),
            Listen::Port { binds, port } => match (binds.as_slice(), port) {
                ([Bind::Addr(addr)], Some(port)) => f.write_str(&format_endpoint(*addr, *port)),
                (binds, Some(port)) => write!(f, "{}:{port}", joined(binds)),
                (binds, None) => write!(f, "{} (a port it picks)", joined(binds)),
            },
        }
    }
}

fn joined(binds: &[Bind]) -> String {
    let names: Vec<String> = binds.iter().map(ToString::to_string).collect();
    names.join(",")
}

/// A port at the far end: a number, or a name the far end resolves (a service name for ssh,
/// a named container port for kubectl).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PortRef {
    Number(u16),
    Name(OsText),
}

impl PortRef {
    pub fn number(&self) -> Option<u16> {
        match self {
            PortRef::Number(n) => Some(*n),
            PortRef::Name(_) => None,
        }
    }

    pub fn name(&self) -> Option<&OsText> {
        match self {
            PortRef::Number(_) => None,
            PortRef::Name(name) => Some(name),
        }
    }
}

impl fmt::Display for PortRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PortRef::Number(n) => write!(f, "{n}"),
            PortRef::Name(name) => write!(f, "{name}"),
        }
    }
}

/// What a forward leads to.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Leads {
    /// A host and port, as the far side resolves the name.
    Host { host: OsText, port: PortRef },
    /// A Unix socket on the far side.
    UnixSocket(OsText),
    /// Wherever each SOCKS client asks (`ssh -D`, or `-R` with only a port).
    Socks,
    /// A port of a Kubernetes resource (`svc/postgres`, `pod/web-0`).
    Kubernetes { resource: OsText, port: PortRef },
    /// A program socat starts for each connection (`EXEC:`, `SYSTEM:`): not a port.
    Program(OsText),
    /// socat's own standard input and output.
    Stdio,
}

impl Leads {
    /// `host`, `unix_socket`, `socks`, `kubernetes`, `program`, `stdio`: the JSON `target_kind`.
    pub fn kind(&self) -> &'static str {
        match self {
            Leads::Host { .. } => "host",
            Leads::UnixSocket(_) => "unix_socket",
            Leads::Socks => "socks",
            Leads::Kubernetes { .. } => "kubernetes",
            Leads::Program(_) => "program",
            Leads::Stdio => "stdio",
        }
    }
}

impl fmt::Display for Leads {
    /// `db.internal:5432`, `[fd00::5]:5432`, `svc/postgres:5432`, `/run/pg.sock`, `SOCKS`,
    /// `program cat`, `stdio`: inert, short enough for a table cell.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Leads::Host { host, port } => {
                if host.raw().contains(':') {
                    write!(f, "[{host}]:{port}")
                } else {
                    write!(f, "{host}:{port}")
                }
            }
            Leads::UnixSocket(path) => write!(f, "{path}"),
            Leads::Socks => f.write_str("SOCKS"),
            Leads::Kubernetes { resource, port } => write!(f, "{resource}:{port}"),
            Leads::Program(command) => write!(f, "program {command}"),
            Leads::Stdio => f.write_str("stdio"),
        }
    }
}

/// One forward a process sets up, read from its command line.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Forward {
    pub via: Forwarder,
    pub direction: Direction,
    pub proto: Proto,
    /// Where it listens: on this machine, or for `ssh -R` on the ssh server.
    pub listen: Listen,
    pub target: Leads,
    /// ssh: the destination as typed (`bastion`, `ana@bastion`): the far side the target is
    /// resolved and reached from.
    pub destination: Option<OsText>,
    /// ssh: the jump host(s) the connection goes through (`-J`, `ProxyJump`).
    pub jump: Option<OsText>,
    /// kubectl: the namespace given (`-n`); `None` means the context's own.
    pub namespace: Option<OsText>,
}

impl Forward {
    /// The option that sets it up, as people know it: `ssh -L`, `ssh -R`, `ssh -D`, `kubectl
    /// port-forward`, `socat`, `docker-proxy`.
    pub fn how(&self) -> &'static str {
        match (self.via, self.direction) {
            (Forwarder::Ssh, Direction::Local) => "ssh -L",
            (Forwarder::Ssh, Direction::Remote) => "ssh -R",
            (Forwarder::Ssh, Direction::Dynamic) => "ssh -D",
            (Forwarder::Kubectl, _) => "kubectl port-forward",
            (Forwarder::Socat, _) => "socat",
            (Forwarder::DockerProxy, _) => "docker-proxy",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_read_as_people_type_them_and_print_inert() {
        let host = |h: &str, p: u16| Leads::Host {
            host: h.into(),
            port: PortRef::Number(p),
        };
        assert_eq!(host("db.internal", 5432).to_string(), "db.internal:5432");
        assert_eq!(host("fd00::5", 5432).to_string(), "[fd00::5]:5432");
        assert_eq!(host("d\u{1b}[2Jb", 1).to_string(), "d\\e[2Jb:1");
        assert_eq!(
            Leads::Kubernetes {
                resource: "svc/postgres".into(),
                port: PortRef::Name("pg".into())
            }
            .to_string(),
            "svc/postgres:pg"
        );
        assert_eq!(Leads::Socks.to_string(), "SOCKS");
        let listen = Listen::Port {
            binds: vec![Bind::Addr("::1".parse().unwrap())],
            port: Some(8080),
        };
        assert_eq!(listen.to_string(), "[::1]:8080");
        let picked = Listen::Port {
            binds: vec![Bind::Loopback],
            port: None,
        };
        assert_eq!(picked.to_string(), "localhost (a port it picks)");
    }
}
