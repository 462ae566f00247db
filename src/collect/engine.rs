//! A client of the container engine's API (Docker's, which Podman also serves) on its Unix
//! socket: which containers run and what they publish, and stopping one.
//!
//! Only what loopwatch needs: `GET /containers/json`, `GET /events` (to learn of changes without
//! polling) and `POST /containers/{id}/stop`, over HTTP/1.1 with `Connection: close`. The
//! response head is parsed by `httparse`; bodies come with a length or chunked.

// Windows has no engine socket to ask: the client is compiled there but only says so.
#![cfg_attr(not(unix), allow(dead_code, unused_imports))]

use std::io::{self, Read, Write};
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;

use crate::model::{Container, ContainerStopped, EngineView, OsText, Proto, PublishedPort};

/// How long a question to the engine may take before it counts as unanswered.
pub const ASK_TIMEOUT: Duration = Duration::from_millis(1500);

/// The most a response may hold: a listing of thousands of containers fits many times over.
const MAX_RESPONSE: usize = 32 << 20;

/// Where to find the engine: `DOCKER_HOST` when set, else the usual sockets of Docker
/// (rootful and rootless) and Podman, the first one that exists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    /// No engine socket here.
    None,
    /// `DOCKER_HOST` names something loopwatch cannot ask (`tcp://`, `ssh://`, `npipe://`).
    Unsupported { named: String },
    /// A Unix socket to ask.
    Unix(PathBuf),
}

impl Endpoint {
    /// Picks the endpoint from `DOCKER_HOST` and `XDG_RUNTIME_DIR` (as given, for tests) and
    /// which of the candidate sockets `exists`.
    pub fn choose(
        docker_host: Option<&str>,
        runtime_dir: Option<&Path>,
        exists: impl Fn(&Path) -> bool,
    ) -> Endpoint {
        if let Some(host) = docker_host.filter(|h| !h.is_empty()) {
            return match host.strip_prefix("unix://") {
                Some(path) => Endpoint::Unix(PathBuf::from(path)),
                None => Endpoint::Unsupported {
                    named: host.to_string(),
                },
            };
        }
        let mut candidates = vec![PathBuf::from("/var/run/docker.sock")];
        if let Some(dir) = runtime_dir {
            candidates.push(dir.join("docker.sock"));
        }
        candidates.push(PathBuf::from("/run/podman/podman.sock"));
        if let Some(dir) = runtime_dir {
            candidates.push(dir.join("podman/podman.sock"));
        }
        candidates
            .into_iter()
            .find(|p| exists(p))
            .map_or(Endpoint::None, Endpoint::Unix)
    }

    /// The endpoint this process would use.
    pub fn from_env() -> Endpoint {
        let host = std::env::var("DOCKER_HOST").ok();
        let runtime = std::env::var_os("XDG_RUNTIME_DIR").map(PathBuf::from);
        Endpoint::choose(host.as_deref(), runtime.as_deref(), Path::exists)
    }

    /// `unix:///var/run/docker.sock`, as `DOCKER_HOST` spells it.
    pub fn describe(&self) -> String {
        match self {
            Endpoint::None => "no container engine socket".to_string(),
            Endpoint::Unsupported { named } => OsText::from(named.as_str()).inert().into_owned(),
            Endpoint::Unix(path) => {
                format!(
                    "unix://{}",
                    OsText::from(path.to_string_lossy().as_ref()).inert()
                )
            }
        }
    }

    /// Asks the engine to stop container `id`; a failure is the outcome's reason.
    pub fn stop(&self, id: &str) -> ContainerStopped {
        match self {
            Endpoint::Unix(path) => {
                stop_container(path, id).unwrap_or_else(|e| ContainerStopped::Failed(e.to_string()))
            }
            Endpoint::None => {
                ContainerStopped::Failed("no container engine socket was found".into())
            }
            Endpoint::Unsupported { .. } => ContainerStopped::Failed(
                "DOCKER_HOST names a non-Unix endpoint, which loopwatch does not ask".into(),
            ),
        }
    }

    /// Lists the running containers; never fails: a failure is the view's reason.
    pub fn view(&self) -> EngineView {
        let endpoint = self.describe();
        let unreachable = |reason: String| EngineView::Unreachable {
            endpoint: endpoint.clone(),
            reason,
        };
        match self {
            Endpoint::None => EngineView::Absent,
            Endpoint::Unsupported { .. } => unreachable(
                "DOCKER_HOST names a non-Unix endpoint, which loopwatch does not ask".to_string(),
            ),
            Endpoint::Unix(path) => match list_containers(path) {
                Ok(containers) => EngineView::Listed {
                    endpoint: endpoint.clone(),
                    containers,
                },
                Err(error) => unreachable(error.to_string()),
            },
        }
    }
}

/// Why the engine gave no answer.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("permission denied on the engine socket (join the docker group, or run as root)")]
    Denied,
    #[error("the engine is not running (nothing answers on its socket)")]
    NotRunning,
    #[error("the engine did not answer within {0:?}")]
    Timeout(Duration),
    #[error("the engine answered HTTP {status}: {message}")]
    Status { status: u16, message: String },
    #[error("the engine's answer could not be read: {0}")]
    Malformed(String),
    #[error("the engine socket failed: {0}")]
    Io(io::Error),
    #[error("this platform has no Unix sockets")]
    Unsupported,
}

impl EngineError {
    fn from_io(error: io::Error, timeout: Duration) -> EngineError {
        match error.kind() {
            io::ErrorKind::PermissionDenied => EngineError::Denied,
            io::ErrorKind::ConnectionRefused | io::ErrorKind::NotFound => EngineError::NotRunning,
            io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => EngineError::Timeout(timeout),
            _ => EngineError::Io(error),
        }
    }
}

/// What came back: the status and the whole body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    pub body: Vec<u8>,
}

/// Running containers, from `GET /containers/json`.
pub fn list_containers(socket: &Path) -> Result<Vec<Arc<Container>>, EngineError> {
    let response = request(socket, "GET", "/containers/json", ASK_TIMEOUT)?;
    let body = success(response)?;
    parse_containers(&body)
}

/// `POST /containers/{id}/stop`: the engine sends the container's stop signal, waits for its
/// stop timeout (10 s unless the container says otherwise), then kills it. Blocks until done.
pub fn stop_container(socket: &Path, id: &str) -> Result<ContainerStopped, EngineError> {
    if id.is_empty() || !id.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(EngineError::Malformed(
            "a container id is letters and digits".to_string(),
        ));
    }
    // Long enough for the engine's own stop timeout and its kill afterwards.
    let response = request(
        socket,
        "POST",
        &format!("/containers/{id}/stop"),
        Duration::from_secs(75),
    )?;
    match response.status {
        204 => Ok(ContainerStopped::Now),
        304 => Ok(ContainerStopped::Already),
        404 => Ok(ContainerStopped::Gone),
        _ => success(response).map(|_| ContainerStopped::Now),
    }
}

/// Opens `GET /events` for container events: each read that returns data means something
/// changed. The stream has no timeout; it ends when the engine stops.
#[cfg(unix)]
pub fn container_events(socket: &Path) -> Result<impl Read, EngineError> {
    let target = "/events?filters=%7B%22type%22%3A%5B%22container%22%5D%7D";
    let mut stream = connect(socket, ASK_TIMEOUT)?;
    send(&mut stream, "GET", target).map_err(|e| EngineError::from_io(e, ASK_TIMEOUT))?;
    // The head, then the body as it comes; only the status matters.
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if head.len() > 64 << 10 {
            return Err(EngineError::Malformed("an endless header".to_string()));
        }
        match stream.read(&mut byte) {
            Ok(0) => return Err(EngineError::Malformed("the stream ended".to_string())),
            Ok(_) => head.push(byte[0]),
            Err(error) => return Err(EngineError::from_io(error, ASK_TIMEOUT)),
        }
    }
    let (status, _, _) = parse_head(&head)?;
    if status != 200 {
        return Err(EngineError::Status {
            status,
            message: "the event stream was refused".to_string(),
        });
    }
    stream
        .set_read_timeout(None)
        .map_err(|e| EngineError::from_io(e, ASK_TIMEOUT))?;
    Ok(stream)
}

#[cfg(unix)]
fn connect(
    socket: &Path,
    timeout: Duration,
) -> Result<std::os::unix::net::UnixStream, EngineError> {
    let stream = std::os::unix::net::UnixStream::connect(socket)
        .map_err(|e| EngineError::from_io(e, timeout))?;
    stream
        .set_read_timeout(Some(timeout))
        .and_then(|()| stream.set_write_timeout(Some(timeout)))
        .map_err(|e| EngineError::from_io(e, timeout))?;
    Ok(stream)
}

fn send(stream: &mut impl Write, method: &str, target: &str) -> io::Result<()> {
    let body = if method == "POST" {
        "Content-Length: 0\r\n"
    } else {
        ""
    };
    write!(
        stream,
        "{method} {target} HTTP/1.1\r\nHost: localhost\r\nUser-Agent: loopwatch\r\n{body}Connection: close\r\n\r\n"
    )?;
    stream.flush()
}

/// One request on a fresh connection, read to its end.
#[cfg(unix)]
pub fn request(
    socket: &Path,
    method: &str,
    target: &str,
    timeout: Duration,
) -> Result<Response, EngineError> {
    let mut stream = connect(socket, timeout)?;
    send(&mut stream, method, target).map_err(|e| EngineError::from_io(e, timeout))?;
    let mut raw = Vec::new();
    stream
        .take(MAX_RESPONSE as u64 + 1)
        .read_to_end(&mut raw)
        .map_err(|e| EngineError::from_io(e, timeout))?;
    if raw.len() > MAX_RESPONSE {
        return Err(EngineError::Malformed(
            "the answer is too large".to_string(),
        ));
    }
    parse_response(&raw)
}

#[cfg(not(unix))]
pub fn request(
    _socket: &Path,
    _method: &str,
    _target: &str,
    _timeout: Duration,
) -> Result<Response, EngineError> {
    Err(EngineError::Unsupported)
}

/// The body of an error answer: `{"message": "..."}`.
#[derive(Deserialize)]
struct Message {
    message: String,
}

fn success(response: Response) -> Result<Vec<u8>, EngineError> {
    if (200..300).contains(&response.status) {
        return Ok(response.body);
    }
    let message = serde_json::from_slice::<Message>(&response.body).map_or_else(
        |_| String::from_utf8_lossy(&response.body).into_owned(),
        |m| m.message,
    );
    Err(EngineError::Status {
        status: response.status,
        message: OsText::from(message.trim()).inert().into_owned(),
    })
}

/// The status, the body's length if given, and whether it is chunked; the head ends at `len`.
fn parse_head(raw: &[u8]) -> Result<(u16, Option<usize>, bool), EngineError> {
    Ok(parse_head_len(raw)?.0)
}

type Head = ((u16, Option<usize>, bool), usize);

fn parse_head_len(raw: &[u8]) -> Result<Head, EngineError> {
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let mut response = httparse::Response::new(&mut headers);
    let len = match response.parse(raw) {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) => {
            return Err(EngineError::Malformed(
                "the answer ended inside its header".to_string(),
            ));
        }
        Err(error) => return Err(EngineError::Malformed(error.to_string())),
    };
    let status = response.code.unwrap_or(0);
    let mut length = None;
    let mut chunked = false;
    for header in response.headers.iter() {
        let value = String::from_utf8_lossy(header.value);
        if header.name.eq_ignore_ascii_case("content-length") {
            length = Some(value.trim().parse().map_err(|_| {
                EngineError::Malformed("a Content-Length that is not a number".to_string())
            })?);
        } else if header.name.eq_ignore_ascii_case("transfer-encoding") {
            chunked = value.to_ascii_lowercase().contains("chunked");
        }
    }
    Ok(((status, length, chunked), len))
}

/// A whole HTTP/1.1 response: head, then a body by length, chunked, or to the end.
pub fn parse_response(raw: &[u8]) -> Result<Response, EngineError> {
    let ((status, length, chunked), head_len) = parse_head_len(raw)?;
    let rest = &raw[head_len..];
    let body = if chunked {
        dechunk(rest)?
    } else if let Some(length) = length {
        rest.get(..length)
            .ok_or_else(|| {
                EngineError::Malformed("the answer is shorter than it said".to_string())
            })?
            .to_vec()
    } else {
        rest.to_vec()
    };
    Ok(Response { status, body })
}

/// Decodes a chunked body: `<hex size>[;ext]\r\n<data>\r\n` ... `0\r\n\r\n`.
fn dechunk(mut rest: &[u8]) -> Result<Vec<u8>, EngineError> {
    let malformed = |what: &str| EngineError::Malformed(format!("a chunked body {what}"));
    let mut body = Vec::new();
    loop {
        let line_end = rest
            .windows(2)
            .position(|w| w == b"\r\n")
            .ok_or_else(|| malformed("ended inside a chunk size"))?;
        let size_text = String::from_utf8_lossy(&rest[..line_end]);
        let size_text = size_text.split(';').next().unwrap_or("").trim();
        let size = usize::from_str_radix(size_text, 16).map_err(|_| malformed("has a bad size"))?;
        rest = &rest[line_end + 2..];
        if size == 0 {
            return Ok(body);
        }
        let chunk = rest
            .get(..size)
            .ok_or_else(|| malformed("ended inside a chunk"))?;
        body.extend_from_slice(chunk);
        rest = rest
            .get(size..)
            .and_then(|r| r.strip_prefix(b"\r\n"))
            .ok_or_else(|| malformed("has a chunk without its line end"))?;
    }
}

/// One entry of `GET /containers/json`, only the fields loopwatch reads.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Summary {
    id: String,
    #[serde(default)]
    names: Vec<String>,
    #[serde(default)]
    image: String,
    #[serde(default)]
    labels: Option<std::collections::HashMap<String, String>>,
    #[serde(default)]
    ports: Vec<SummaryPort>,
    #[serde(default)]
    network_settings: Option<Networks>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct SummaryPort {
    #[serde(rename = "IP", default)]
    ip: Option<String>,
    private_port: u16,
    #[serde(default)]
    public_port: Option<u16>,
    #[serde(rename = "Type", default)]
    kind: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Networks {
    #[serde(default)]
    networks: Option<std::collections::HashMap<String, Network>>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Network {
    #[serde(rename = "IPAddress", default)]
    ip_address: Option<String>,
    #[serde(rename = "GlobalIPv6Address", default)]
    global_ipv6_address: Option<String>,
}

/// The containers in a `GET /containers/json` body. Ports not published on the host (no
/// `PublicPort`) are left out: nothing on the host reaches them.
pub fn parse_containers(body: &[u8]) -> Result<Vec<Arc<Container>>, EngineError> {
    let summaries: Vec<Summary> =
        serde_json::from_slice(body).map_err(|e| EngineError::Malformed(e.to_string()))?;
    Ok(summaries
        .into_iter()
        .map(|s| Arc::new(container(s)))
        .collect())
}

fn container(summary: Summary) -> Container {
    let name = summary.names.first().map_or_else(
        || summary.id.get(..12).unwrap_or(&summary.id).to_string(),
        |n| n.strip_prefix('/').unwrap_or(n).to_string(),
    );
    let labels = summary.labels.unwrap_or_default();
    let compose = match (
        labels.get("com.docker.compose.project"),
        labels.get("com.docker.compose.service"),
    ) {
        (Some(project), Some(service)) => Some((
            OsText::from(project.as_str()),
            OsText::from(service.as_str()),
        )),
        _ => None,
    };
    let mut addresses: Vec<IpAddr> = summary
        .network_settings
        .and_then(|n| n.networks)
        .into_iter()
        .flat_map(std::collections::HashMap::into_values)
        .flat_map(|n| [n.ip_address, n.global_ipv6_address])
        .flatten()
        .filter_map(|a| a.parse().ok())
        .collect();
    addresses.sort_unstable();
    addresses.dedup();
    let mut ports: Vec<PublishedPort> = summary
        .ports
        .into_iter()
        .filter_map(|p| {
            let proto = match p.kind.as_str() {
                "tcp" => Proto::Tcp,
                "udp" => Proto::Udp,
                _ => return None, // sctp: loopwatch does not list it
            };
            Some(PublishedPort {
                proto,
                host_addr: p.ip.as_deref().and_then(|ip| ip.parse().ok()),
                host_port: p.public_port.filter(|&port| port != 0)?,
                container_port: p.private_port,
            })
        })
        .collect();
    ports.sort_by_key(|p| (p.host_port, p.proto, p.host_addr));
    ports.dedup();
    Container {
        id: summary.id,
        name: name.into(),
        image: summary.image.into(),
        compose,
        addresses,
        ports,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docker_host_wins_then_the_first_socket_that_exists() {
        let none = |_: &Path| false;
        assert_eq!(Endpoint::choose(None, None, none), Endpoint::None);
        assert_eq!(
            Endpoint::choose(Some("unix:///tmp/d.sock"), None, none),
            Endpoint::Unix("/tmp/d.sock".into()),
            "a named socket is asked even if it is missing: the user said so"
        );
        assert_eq!(
            Endpoint::choose(Some("tcp://10.0.0.1:2375"), None, none),
            Endpoint::Unsupported {
                named: "tcp://10.0.0.1:2375".into()
            }
        );
        let runtime = Path::new("/run/user/1000");
        let rootless = |p: &Path| p == Path::new("/run/user/1000/docker.sock");
        assert_eq!(
            Endpoint::choose(Some(""), Some(runtime), rootless),
            Endpoint::Unix("/run/user/1000/docker.sock".into()),
            "an empty DOCKER_HOST counts as unset"
        );
        let podman = |p: &Path| p.ends_with("podman/podman.sock");
        assert_eq!(
            Endpoint::choose(None, Some(runtime), podman),
            Endpoint::Unix("/run/podman/podman.sock".into())
        );
    }

    #[test]
    fn a_listing_names_containers_their_ports_and_compose_service() {
        let body = br#"[{"Id":"0f99e7bbe4febced82d7b90e15dd5aec23f10690043d6275e5349d63a130e477",
            "Names":["/shop-web-1"],"Image":"nginx:1.27",
            "Ports":[{"IP":"127.0.0.1","PrivatePort":80,"PublicPort":8080,"Type":"tcp"},
                     {"IP":"::","PrivatePort":80,"PublicPort":8080,"Type":"tcp"},
                     {"PrivatePort":443,"Type":"tcp"},
                     {"IP":"0.0.0.0","PrivatePort":53,"PublicPort":5353,"Type":"udp"},
                     {"IP":"0.0.0.0","PrivatePort":9,"PublicPort":9,"Type":"sctp"}],
            "Labels":{"com.docker.compose.project":"shop","com.docker.compose.service":"web"},
            "NetworkSettings":{"Networks":{"shop_default":{"IPAddress":"172.18.0.2","GlobalIPv6Address":""}}}}]"#;
        let containers = parse_containers(body).unwrap();
        let web = &containers[0];
        assert_eq!(web.short_id(), "0f99e7bbe4fe");
        assert_eq!(web.label(), "shop-web-1 (nginx:1.27, compose shop/web)");
        assert_eq!(web.addresses, vec!["172.18.0.2".parse::<IpAddr>().unwrap()]);
        let published: Vec<(Proto, Option<IpAddr>, u16, u16)> = web
            .ports
            .iter()
            .map(|p| (p.proto, p.host_addr, p.host_port, p.container_port))
            .collect();
        assert_eq!(
            published,
            vec![
                (Proto::Udp, Some("0.0.0.0".parse().unwrap()), 5353, 53),
                (Proto::Tcp, Some("127.0.0.1".parse().unwrap()), 8080, 80),
                (Proto::Tcp, Some("::".parse().unwrap()), 8080, 80),
            ],
            "unpublished and SCTP ports are left out"
        );
        let loopback: IpAddr = "127.0.0.1".parse().unwrap();
        assert!(web.publishing(Proto::Tcp, loopback, 8080).is_some());
        assert!(
            web.publishing(Proto::Tcp, "10.0.0.5".parse().unwrap(), 8080)
                .is_none()
        );
        assert!(
            web.publishing(Proto::Udp, loopback, 5353).is_some(),
            "0.0.0.0 covers it"
        );
    }

    #[test]
    fn hostile_names_stay_inert_when_shown() {
        let body =
            br#"[{"Id":"abc","Names":["/x\u001b]0;pwned\u0007"],"Image":"i\u001b[2J","Ports":[]}]"#;
        let containers = parse_containers(body).unwrap();
        let label = containers[0].label();
        assert!(
            !label.contains('\u{1b}') && !label.contains('\u{7}'),
            "{label:?}"
        );
    }

    #[test]
    fn responses_by_length_chunked_and_to_the_end() {
        let by_length = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n[]extra";
        assert_eq!(parse_response(by_length).unwrap().body, b"[]");
        let chunked = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;x=y\r\n[{}\r\n1\r\n]\r\n0\r\n\r\n";
        assert_eq!(parse_response(chunked).unwrap().body, b"[{}]");
        let to_end = b"HTTP/1.0 404 Not Found\r\n\r\n{\"message\":\"No such container: x\"}";
        let response = parse_response(to_end).unwrap();
        assert_eq!(response.status, 404);
        let error = success(response).unwrap_err().to_string();
        assert_eq!(error, "the engine answered HTTP 404: No such container: x");
        for broken in [
            &b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n[]"[..],
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab",
            b"HTTP/1.1 200 OK\r\nContent-Le",
            b"garbage",
        ] {
            assert!(
                parse_response(broken).is_err(),
                "{:?}",
                String::from_utf8_lossy(broken)
            );
        }
    }

    #[test]
    fn only_a_plain_id_is_ever_put_in_a_request_path() {
        for id in ["", "../../images/create", "abc?x=1", "abc def"] {
            assert!(
                matches!(
                    stop_container(Path::new("/nonexistent"), id),
                    Err(EngineError::Malformed(_))
                ),
                "{id:?}"
            );
        }
    }
}
