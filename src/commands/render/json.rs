//! The JSON document of `list --json` and `who PORT --json`: a versioned contract for scripts.
//!
//! These structs are deliberately separate from [`crate::model`]: the model may change shape
//! freely, while a field published here is never renamed or retyped under the same
//! [`VERSION`]. Adding fields is fine; anything else bumps the version.
//!
//! ```json
//! {"version":1,"privileged":false,"hidden_owners":0,"sockets":[{"proto":"tcp",
//!  "local_address":"127.0.0.1","local_port":62893,"scope":"loopback","exposed":false,
//!  "state":"LISTEN","remote_address":null,"remote_port":null,"inode":1234,"uid":1000,
//!  "user":"ana","owners":[{"pid":4812,"name":"node","user":"ana",
//!  "cmdline":"node server.js","start_time":1764139200}],"owner_unknown":null,
//!  "owner_unknown_reason":null}]}
//! ```

use serde::Serialize;

use crate::model::{
    Container, EngineView, Forward, Leads, OsText, Owner, PortRef, Snapshot, Socket, UnknownOwner,
    is_unsafe,
};

/// The document format version. Bump it only for incompatible changes.
pub(crate) const VERSION: u32 = 1;

/// The whole answer.
#[derive(Debug, Serialize)]
pub(crate) struct Document<'a> {
    pub(crate) version: u32,
    /// The port asked about (`who` with one port only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) port: Option<u16>,
    /// The ports asked about (`who` with several ports only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) ports: Option<Vec<u16>>,
    /// Whether every process's sockets were visible (root, or an OS without that limit).
    pub(crate) privileged: bool,
    /// How many sockets' owners are hidden by permissions (running as root shows them).
    pub(crate) hidden_owners: usize,
    /// The container engine asked for what stands behind published ports; absent when this
    /// machine has no engine socket.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) engine: Option<EngineEntry<'a>>,
    pub(crate) sockets: Sockets<'a>,
}

/// The `sockets` array, written one entry at a time as it is serialised: at 100,000 sockets a
/// document built whole first would cost several times the snapshot it describes.
#[derive(Debug)]
pub(crate) struct Sockets<'a>(&'a [Socket]);

impl Serialize for Sockets<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.0.iter().map(SocketEntry::from))
    }
}

/// Where the container engine was asked and whether it answered.
#[derive(Debug, Serialize)]
pub(crate) struct EngineEntry<'a> {
    /// `unix:///var/run/docker.sock`.
    pub(crate) endpoint: &'a str,
    pub(crate) reachable: bool,
    /// Why it could not be asked; null when it answered.
    pub(crate) reason: Option<&'a str>,
}

impl<'a> EngineEntry<'a> {
    pub(crate) fn of(view: &'a EngineView) -> Option<Self> {
        match view {
            EngineView::Absent => None,
            EngineView::Unreachable { endpoint, reason } => Some(EngineEntry {
                endpoint,
                reachable: false,
                reason: Some(reason),
            }),
            EngineView::Listed { endpoint, .. } => Some(EngineEntry {
                endpoint,
                reachable: true,
                reason: None,
            }),
        }
    }
}

/// The container a socket serves.
#[derive(Debug, Serialize)]
pub(crate) struct ContainerEntry<'a> {
    /// The full id.
    pub(crate) id: &'a str,
    pub(crate) name: &'a str,
    pub(crate) image: &'a str,
    /// `com.docker.compose.project` / `.service`, when compose started it.
    pub(crate) compose_project: Option<&'a str>,
    pub(crate) compose_service: Option<&'a str>,
    /// The port inside the container this socket's port is published to (listeners only).
    pub(crate) container_port: Option<u16>,
    /// The container's addresses on its networks.
    pub(crate) addresses: Vec<String>,
}

impl<'a> ContainerEntry<'a> {
    fn of(socket: &Socket, container: &'a Container) -> Self {
        let compose = container.compose.as_ref();
        ContainerEntry {
            id: &container.id,
            name: container.name.raw(),
            image: container.image.raw(),
            compose_project: compose.map(|(project, _)| project.raw()),
            compose_service: compose.map(|(_, service)| service.raw()),
            container_port: socket
                .state
                .is_listening()
                .then(|| container.publishing(socket.proto, socket.local_addr, socket.local_port))
                .flatten()
                .map(|p| p.container_port),
            addresses: container
                .addresses
                .iter()
                .map(ToString::to_string)
                .collect(),
        }
    }
}

/// One socket and every process that holds it.
#[derive(Debug, Serialize)]
pub(crate) struct SocketEntry<'a> {
    /// `"tcp"` or `"udp"`.
    pub(crate) proto: &'static str,
    /// IPv4-mapped IPv6 addresses are given as IPv4.
    pub(crate) local_address: String,
    pub(crate) local_port: u16,
    /// `"loopback"`, `"all interfaces"` or `"this host"`.
    pub(crate) scope: &'static str,
    /// Reachable from other machines (bound to all interfaces).
    pub(crate) exposed: bool,
    /// TCP state (`"LISTEN"`, `"ESTABLISHED"`, ...) or `"BOUND"` for UDP.
    pub(crate) state: &'static str,
    pub(crate) remote_address: Option<String>,
    pub(crate) remote_port: Option<u16>,
    /// Kernel socket inode; 0 where the platform has none.
    pub(crate) inode: u64,
    /// The socket's owning uid, known even when its process is hidden.
    pub(crate) uid: Option<u32>,
    /// The user name for `uid`.
    pub(crate) user: Option<&'a str>,
    /// Every process holding the socket, by pid; empty when unknown.
    pub(crate) owners: Vec<OwnerEntry<'a>>,
    /// Why `owners` is empty: `"permission_denied"`, `"kernel"`, `"not_found"`,
    /// `"unsupported"`; null when owners are known.
    pub(crate) owner_unknown: Option<&'static str>,
    /// The same reason as a sentence for people.
    pub(crate) owner_unknown_reason: Option<&'static str>,
    /// The container behind the socket: behind an engine proxy, or published by NAT rules
    /// alone (`owner_unknown` `"nat"`); null otherwise.
    pub(crate) container: Option<ContainerEntry<'a>>,
    /// Where the socket leads when it is the listening end of a forward its first owner sets
    /// up (`ssh -L`/`-D`, `kubectl port-forward`, socat, docker-proxy); null otherwise.
    pub(crate) forwards_to: Option<ForwardEntry<'a>>,
}

/// A forward, as its forwarder's command line gives it.
#[derive(Debug, Serialize)]
pub(crate) struct ForwardEntry<'a> {
    /// `"ssh"`, `"kubectl"`, `"socat"` or `"docker-proxy"`.
    pub(crate) via: &'static str,
    /// `"local"` (`ssh -L`, and every other forwarder) or `"dynamic"` (`ssh -D`, a SOCKS proxy).
    pub(crate) kind: &'static str,
    /// What it leads to: `"host"`, `"unix_socket"`, `"socks"`, `"kubernetes"`, `"program"`,
    /// `"stdio"`.
    pub(crate) target_kind: &'static str,
    /// The host or address as typed, resolved by the far side (`"host"` only).
    pub(crate) target_host: Option<&'a str>,
    /// The port at the far end, when a number.
    pub(crate) target_port: Option<u16>,
    /// The port at the far end, when a name (a service name for ssh, a named container port
    /// for kubectl).
    pub(crate) target_port_name: Option<&'a str>,
    /// The Unix socket at the far end (`"unix_socket"`).
    pub(crate) target_path: Option<&'a str>,
    /// The program socat starts for each connection (`"program"`).
    pub(crate) target_program: Option<&'a str>,
    /// kubectl: the resource (`svc/postgres`, `pod/web-0`).
    pub(crate) resource: Option<&'a str>,
    /// kubectl: the namespace given; null for the context's own.
    pub(crate) namespace: Option<&'a str>,
    /// ssh: the destination as typed, from where the target is reached.
    pub(crate) destination: Option<&'a str>,
    /// ssh: the jump host(s) on the way (`-J`).
    pub(crate) jump: Option<&'a str>,
}

impl<'a> ForwardEntry<'a> {
    fn of(forward: &'a Forward) -> Self {
        let (host, port, path, program, resource) = match &forward.target {
            Leads::Host { host, port } => (Some(host), Some(port), None, None, None),
            Leads::Kubernetes { resource, port } => (None, Some(port), None, None, Some(resource)),
            Leads::UnixSocket(path) => (None, None, Some(path), None, None),
            Leads::Program(command) => (None, None, None, Some(command), None),
            Leads::Socks | Leads::Stdio => (None, None, None, None, None),
        };
        ForwardEntry {
            via: forward.via.as_str(),
            kind: forward.direction.as_str(),
            target_kind: forward.target.kind(),
            target_host: host.map(OsText::raw),
            target_port: port.and_then(PortRef::number),
            target_port_name: port.and_then(PortRef::name).map(OsText::raw),
            target_path: path.map(OsText::raw),
            target_program: program.map(OsText::raw),
            resource: resource.map(OsText::raw),
            namespace: forward.namespace.as_ref().map(OsText::raw),
            destination: forward.destination.as_ref().map(OsText::raw),
            jump: forward.jump.as_ref().map(OsText::raw),
        }
    }
}

/// A process holding a socket.
#[derive(Debug, Serialize)]
pub(crate) struct OwnerEntry<'a> {
    pub(crate) pid: u32,
    pub(crate) name: &'a str,
    pub(crate) user: Option<&'a str>,
    /// Arguments joined by spaces; empty when unreadable.
    pub(crate) cmdline: &'a str,
    /// The arguments one by one, exactly (an empty one, or one holding spaces, stays whole);
    /// empty when unreadable.
    pub(crate) argv: Vec<&'a str>,
    /// Seconds since the epoch; with `pid`, identifies the process even after pid reuse.
    pub(crate) start_time: u64,
    /// The start in the kernel's clock ticks since boot: exact where `start_time` (seconds)
    /// is not; 0 where the platform does not report it.
    pub(crate) start_ticks: u64,
}

impl<'a> Document<'a> {
    /// The document for `view`'s sockets, in their order. `port` is set for `who`.
    pub(crate) fn new(view: &'a Snapshot, port: Option<u16>) -> Self {
        Document {
            version: VERSION,
            port,
            ports: None,
            privileged: view.privileged,
            hidden_owners: view.hidden_owner_count(),
            engine: EngineEntry::of(&view.engine),
            sockets: Sockets(&view.sockets),
        }
    }
}

impl<'a> From<&'a Socket> for SocketEntry<'a> {
    fn from(s: &'a Socket) -> Self {
        SocketEntry {
            proto: s.proto.as_str(),
            local_address: s.local_addr.to_string(),
            local_port: s.local_port,
            scope: s.scope.as_str(),
            exposed: s.scope.is_exposed(),
            state: s.state.as_str(),
            remote_address: s.remote.map(|(addr, _)| addr.to_string()),
            remote_port: s.remote.map(|(_, port)| port),
            inode: s.inode,
            uid: s.uid,
            user: s.user.as_ref().map(OsText::raw),
            owners: s.owners.iter().map(OwnerEntry::from).collect(),
            owner_unknown: s.unknown.map(UnknownOwner::as_str),
            owner_unknown_reason: s.unknown.map(UnknownOwner::explain),
            container: s.container.as_deref().map(|c| ContainerEntry::of(s, c)),
            forwards_to: s.forward.as_deref().map(ForwardEntry::of),
        }
    }
}

impl<'a> From<&'a Owner> for OwnerEntry<'a> {
    fn from(o: &'a Owner) -> Self {
        OwnerEntry {
            pid: o.key.pid,
            name: o.name.raw(),
            user: o.user.as_ref().map(OsText::raw),
            cmdline: o.cmdline.raw(),
            argv: o.argv.iter().map(OsText::raw).collect(),
            start_time: o.key.start_time,
            start_ticks: o.key.start_ticks,
        }
    }
}

/// `who`'s document: `port` for one port, as always; `ports` for several.
pub(crate) fn document_for_ports(view: &Snapshot, ports: &[u16]) -> serde_json::Result<String> {
    let mut doc = Document::new(view, None);
    match ports {
        [port] => doc.port = Some(*port),
        _ => doc.ports = Some(ports.to_vec()),
    }
    let mut text = pretty(&doc)?;
    text.push('\n');
    Ok(text)
}

/// The pretty-printed document with a trailing newline.
#[cfg(test)]
pub(crate) fn document(view: &Snapshot, port: Option<u16>) -> serde_json::Result<String> {
    let mut text = pretty(&Document::new(view, port))?;
    text.push('\n');
    Ok(text)
}

/// Writes the pretty-printed document and a trailing newline to `out` as it is serialised,
/// inert like [`pretty`]: the same bytes, never the whole text in memory.
pub(crate) fn write_document(
    out: &mut dyn std::io::Write,
    view: &Snapshot,
    port: Option<u16>,
) -> std::io::Result<()> {
    use std::io::Write as _;
    // serde writes a document in thousands of tiny pieces: they are gathered first, so the
    // escaping pass and the output see 64 KiB at a time.
    let mut inert = InertWriter::new(out);
    let mut gathered = std::io::BufWriter::with_capacity(64 * 1024, &mut inert);
    serde_json::to_writer_pretty(&mut gathered, &Document::new(view, port))?;
    gathered.write_all(b"\n")?;
    gathered.flush()?;
    drop(gathered);
    inert.finish()
}

/// `value` as indented JSON, inert on a terminal (see [`inert_json`]).
pub(crate) fn pretty(value: &impl Serialize) -> serde_json::Result<String> {
    serde_json::to_string_pretty(value).map(inert_json)
}

/// `value` as one line of JSON, inert on a terminal (see [`inert_json`]).
pub(crate) fn line(value: &impl Serialize) -> serde_json::Result<String> {
    serde_json::to_string(value).map(inert_json)
}

/// [`inert_json`] as a stream: each character is escaped as it passes. serde_json writes whole
/// characters, but a character split between two writes is held until its last byte arrives.
struct InertWriter<W: std::io::Write> {
    out: W,
    /// The first bytes of a character whose rest is still to come (at most 3).
    partial: Vec<u8>,
}

impl<W: std::io::Write> InertWriter<W> {
    fn new(out: W) -> Self {
        Self {
            out,
            partial: Vec::new(),
        }
    }

    /// Flushes what is buffered; a character left unfinished is written as it is.
    fn finish(mut self) -> std::io::Result<()> {
        let rest = std::mem::take(&mut self.partial);
        self.out.write_all(&rest)?;
        self.out.flush()
    }

    fn pass(&mut self, text: &str) -> std::io::Result<()> {
        // Nearly every byte of a document is printable ASCII: checked in one sweep.
        if text
            .bytes()
            .all(|b| (b' '..0x7f).contains(&b) || b == b'\n')
        {
            return self.out.write_all(text.as_bytes());
        }
        let mut clean = 0;
        for (at, c) in text.char_indices() {
            if needs_escape(c) {
                self.out.write_all(&text.as_bytes()[clean..at])?;
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    write!(self.out, "\\u{unit:04x}")?;
                }
                clean = at + c.len_utf8();
            }
        }
        self.out.write_all(&text.as_bytes()[clean..])
    }
}

impl<W: std::io::Write> std::io::Write for InertWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let joined;
        let bytes = if self.partial.is_empty() {
            buf
        } else {
            self.partial.extend_from_slice(buf);
            joined = std::mem::take(&mut self.partial);
            &joined[..]
        };
        let mut rest = bytes;
        while !rest.is_empty() {
            match std::str::from_utf8(rest) {
                Ok(text) => {
                    self.pass(text)?;
                    rest = &[];
                }
                Err(error) => {
                    let (valid, tail) = rest.split_at(error.valid_up_to());
                    // The prefix was just checked to be UTF-8.
                    self.pass(std::str::from_utf8(valid).unwrap_or_default())?;
                    if let Some(bad) = error.error_len() {
                        // Not UTF-8 at all: JSON from serde never holds such bytes; pass them.
                        self.out.write_all(&tail[..bad])?;
                        rest = &tail[bad..];
                    } else {
                        self.partial = tail.to_vec();
                        rest = &[];
                    }
                }
            }
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.out.flush()
    }
}

/// What JSON allows raw in a string but a terminal would act on or hide.
fn needs_escape(c: char) -> bool {
    c == '\u{7f}' || (!c.is_ascii() && is_unsafe(c))
}

/// Escapes what JSON allows raw but a terminal would act on or hide: C1 controls, format
/// characters (bidi, zero-width), line and paragraph separators, as `\uXXXX`. The value a
/// parser reads back is unchanged. Outside strings JSON is plain ASCII, so every such
/// (non-ASCII) character found is inside one.
fn inert_json(text: String) -> String {
    use std::fmt::Write as _;
    // JSON escapes the C0 controls in strings itself (outside them they are its whitespace);
    // DEL, C1 and format characters it would leave raw.
    if !text.chars().any(needs_escape) {
        return text;
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if needs_escape(c) {
            let mut units = [0u16; 2];
            for unit in c.encode_utf16(&mut units) {
                // Writing to a String cannot fail.
                let _ = write!(out, "\\u{unit:04x}");
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::view;
    use crate::model::Query;
    use crate::model::fixtures::{sample_snapshot, tunnels};

    #[test]
    fn c1_and_format_characters_are_escaped_and_read_back_exactly() {
        let hostile = "evil\u{9b}31m\u{202e}gnp\u{200b}\u{e0041}\u{1b}[2J\u{7f}\u{8}";
        let json = pretty(&serde_json::json!({ "name": hostile })).unwrap();
        assert!(!json.chars().any(|c| is_unsafe(c) && c != '\n'), "{json}");
        assert!(
            json.contains("\\u009b") && json.contains("\\u202e") && json.contains("\\u007f"),
            "{json}"
        );
        assert!(json.contains("\\udb40\\udc41"), "a surrogate pair: {json}");
        let back: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(back["name"], hostile, "the value itself is unchanged");
    }

    /// The streamed document is byte for byte the one built whole, hostile names escaped
    /// alike, whether serde's writes arrive whole or one byte at a time.
    #[test]
    fn the_streamed_document_is_the_built_one_even_split_mid_character() {
        let mut snapshot = view(sample_snapshot(), Query::EVERYTHING);
        let hostile = "n\u{9b}31m\u{202e}\u{e0041}é\u{1b}[2J\u{7f}";
        let mut owners = snapshot.sockets[0].owners.to_vec();
        owners[0].name = OsText::from(hostile);
        snapshot.sockets[0].owners = owners.into();
        let built = document(&snapshot, None).unwrap();

        let mut streamed = Vec::new();
        write_document(&mut streamed, &snapshot, None).unwrap();
        assert_eq!(String::from_utf8(streamed).unwrap(), built);

        let whole = serde_json::to_string_pretty(&Document::new(&snapshot, None)).unwrap();
        let mut bytewise = Vec::new();
        let mut inert = InertWriter::new(&mut bytewise);
        for byte in whole.as_bytes() {
            std::io::Write::write_all(&mut inert, std::slice::from_ref(byte)).unwrap();
        }
        inert.finish().unwrap();
        assert_eq!(String::from_utf8(bytewise).unwrap() + "\n", built);
        assert!(built.contains("\\u202e") && built.contains("\\udb40\\udc41"));
    }

    /// A reader that goes away mid-document ends the write with the broken pipe, which the
    /// caller reports as a quiet exit, not a panic or a partial success.
    #[test]
    fn a_closed_reader_ends_the_stream_with_its_error() {
        struct Closed;
        impl std::io::Write for Closed {
            fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
                Err(std::io::ErrorKind::BrokenPipe.into())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Err(std::io::ErrorKind::BrokenPipe.into())
            }
        }
        let snapshot = view(sample_snapshot(), Query::EVERYTHING);
        let error = write_document(&mut Closed, &snapshot, None).unwrap_err();
        assert_eq!(error.kind(), std::io::ErrorKind::BrokenPipe);
    }

    #[test]
    fn list_document_of_the_sample_snapshot() {
        let shown = view(sample_snapshot(), Query::EVERYTHING);
        insta::assert_snapshot!(document(&shown, None).unwrap());
    }

    #[test]
    fn who_document_of_a_hidden_owner() {
        let shown = view(sample_snapshot(), Query::port(6379));
        insta::assert_snapshot!(document(&shown, Some(6379)).unwrap());
    }

    #[test]
    fn list_document_of_forwarders() {
        let shown = view(tunnels(), Query::default());
        insta::assert_snapshot!(document(&shown, None).unwrap());
    }

    /// `forwards_to`, field by field, for each forwarder (and null where none forwards).
    #[test]
    fn forwards_to_names_the_forwarder_and_the_far_end() {
        let shown = view(tunnels(), Query::EVERYTHING);
        let doc: serde_json::Value =
            serde_json::from_str(&document(&shown, None).unwrap()).unwrap();
        let sockets = doc["sockets"].as_array().unwrap();
        let at = |port: u64| {
            sockets
                .iter()
                .find(|s| s["local_port"] == port && s["local_address"] == "127.0.0.1")
                .unwrap()["forwards_to"]
                .clone()
        };
        assert_eq!(
            at(15432),
            serde_json::json!({"via": "ssh", "kind": "local", "target_kind": "host",
                "target_host": "db.internal", "target_port": 5432, "target_port_name": null,
                "target_path": null, "target_program": null, "resource": null,
                "namespace": null, "destination": "bastion", "jump": "jump.example"})
        );
        assert_eq!(at(1080)["kind"], "dynamic");
        assert_eq!(at(1080)["target_kind"], "socks");
        assert_eq!(at(1080)["target_host"], serde_json::Value::Null);
        let kubectl = at(25432);
        assert_eq!(
            (
                &kubectl["via"],
                &kubectl["resource"],
                &kubectl["namespace"],
                &kubectl["target_port"]
            ),
            (
                &"kubectl".into(),
                &"svc/postgres".into(),
                &"shop".into(),
                &5432.into()
            )
        );
        assert_eq!(at(8081)["via"], "socat");
        assert_eq!(at(8081)["target_host"], "127.0.0.1");
        assert_eq!(at(18080)["via"], "docker-proxy");
        assert_eq!(at(18080)["target_host"], "172.17.0.2");
        assert_eq!(at(3000), serde_json::Value::Null);
        let client = sockets.iter().find(|s| s["local_port"] == 51022).unwrap();
        assert_eq!(
            client["forwards_to"],
            serde_json::Value::Null,
            "ssh's own connection"
        );
    }

    /// The fields and types scripts rely on, checked independently of the snapshot files so an
    /// accidental rename cannot be "fixed" by accepting a new snapshot.
    #[test]
    fn contract_fields_keep_their_names_and_types() {
        let shown = view(sample_snapshot(), Query::EVERYTHING);
        let doc: serde_json::Value =
            serde_json::from_str(&document(&shown, None).unwrap()).unwrap();
        assert_eq!(doc["version"], 1);
        assert!(doc.get("port").is_none());
        assert_eq!(doc["hidden_owners"], 1);
        assert_eq!(doc["privileged"], false);
        let sockets = doc["sockets"].as_array().unwrap();
        assert_eq!(sockets.len(), sample_snapshot().sockets.len());

        let node = sockets
            .iter()
            .find(|s| s["local_port"] == 5173 && s["local_address"] == "127.0.0.1")
            .unwrap();
        assert_eq!(node["proto"], "tcp");
        assert_eq!(node["scope"], "loopback");
        assert_eq!(node["state"], "LISTEN");
        assert_eq!(node["remote_address"], serde_json::Value::Null);
        assert_eq!(node["remote_port"], serde_json::Value::Null);
        assert_eq!(node["owner_unknown"], serde_json::Value::Null);
        assert_eq!(
            node["owners"],
            serde_json::json!([{"pid": 4812, "name": "node", "user": "ana",
                "cmdline": "node server.js", "argv": ["node", "server.js"],
                "start_time": 1_764_139_200 + 4812,
                "start_ticks": 0}])
        );

        let nginx = sockets.iter().find(|s| s["local_port"] == 8080).unwrap();
        assert_eq!(nginx["scope"], "all interfaces");
        assert_eq!(nginx["exposed"], true);
        let pids: Vec<_> = nginx["owners"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["pid"].as_u64().unwrap())
            .collect();
        assert_eq!(pids, [2100, 2101, 2102, 2103]);

        let redis = sockets.iter().find(|s| s["local_port"] == 6379).unwrap();
        assert_eq!(redis["owners"], serde_json::json!([]));
        assert_eq!(redis["owner_unknown"], "permission_denied");
        assert_eq!(redis["user"], "redis");
        assert_eq!(redis["uid"], 110);

        let dns = sockets.iter().find(|s| s["local_port"] == 53).unwrap();
        assert_eq!(
            (&dns["proto"], &dns["state"]),
            (&"udp".into(), &"BOUND".into())
        );

        let client = sockets.iter().find(|s| s["local_port"] == 62893).unwrap();
        assert_eq!(client["remote_address"], "127.0.0.1");
        assert_eq!(client["remote_port"], 5173);
    }
}
