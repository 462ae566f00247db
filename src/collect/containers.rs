//! Joins what the container engine says into a snapshot: the container behind each engine
//! proxy's socket, and a row for every port an engine publishes with no process listening
//! (NAT rules only), since nothing else would ever show those.
//!
//! The engine is asked off the caller's thread where it matters: the live table reads the
//! latest answer of an [`EngineWatch`], which learns of changes from the engine's event stream
//! and so costs nothing while nothing changes. One-shot commands ask once, with a timeout.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::Collector;
use super::engine::Endpoint;
use crate::model::{
    CollectError, Container, EngineView, Query, Scope, Snapshot, Socket, SocketState, UnknownOwner,
    is_engine_proxy, unspecified,
};

/// The engine's latest answer, and a number that changes whenever the answer does.
pub trait EngineSource: Send {
    fn view(&mut self) -> (u64, Arc<EngineView>);
}

/// Asks once, on first use, and keeps the answer: for one-shot commands.
pub struct AskOnce {
    endpoint: Endpoint,
    answer: Option<Arc<EngineView>>,
}

impl AskOnce {
    pub fn new(endpoint: Endpoint) -> Self {
        Self {
            endpoint,
            answer: None,
        }
    }
}

impl EngineSource for AskOnce {
    fn view(&mut self) -> (u64, Arc<EngineView>) {
        let endpoint = &self.endpoint;
        let answer = self.answer.get_or_insert_with(|| Arc::new(endpoint.view()));
        (0, Arc::clone(answer))
    }
}

/// The latest answer of a thread that keeps asking the engine whenever it reports a change.
#[derive(Clone)]
pub struct EngineWatch {
    latest: Arc<Mutex<(u64, Arc<EngineView>)>>,
}

/// How long to wait before asking again when the engine is absent or unreachable, or its
/// event stream broke: a daemon started later is found within this.
const RETRY: Duration = Duration::from_secs(10);

impl EngineWatch {
    /// Starts the watching thread; the first answer arrives once the engine has replied, and
    /// until then the view is [`EngineView::Absent`].
    pub fn start(endpoint: Endpoint) -> EngineWatch {
        let watch = EngineWatch {
            latest: Arc::new(Mutex::new((0, Arc::new(EngineView::Absent)))),
        };
        let shared = watch.clone();
        let spawned = std::thread::Builder::new()
            .name("engine".into())
            .spawn(move || shared.run(&endpoint));
        if let Err(error) = spawned {
            watch.publish(EngineView::Unreachable {
                endpoint: "the engine".into(),
                reason: format!("no thread could be started to ask it: {error}"),
            });
        }
        watch
    }

    fn publish(&self, view: EngineView) {
        let mut latest = self
            .latest
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if *latest.1 != view {
            latest.0 += 1;
            latest.1 = Arc::new(view);
        }
    }

    fn run(&self, endpoint: &Endpoint) {
        loop {
            let view = endpoint.view();
            let listed = matches!(view, EngineView::Listed { .. });
            self.publish(view);
            if !listed {
                std::thread::sleep(RETRY);
                continue;
            }
            self.follow_events(endpoint);
        }
    }

    /// Re-lists on every event until the stream ends; the next loop re-lists anyway.
    #[cfg(unix)]
    fn follow_events(&self, endpoint: &Endpoint) {
        use std::io::Read;
        let Endpoint::Unix(path) = endpoint else {
            return std::thread::sleep(RETRY);
        };
        let Ok(mut events) = super::engine::container_events(path) else {
            return std::thread::sleep(RETRY);
        };
        let mut buffer = [0u8; 8192];
        loop {
            match events.read(&mut buffer) {
                Ok(0) | Err(_) => return std::thread::sleep(Duration::from_millis(500)),
                Ok(_) => {
                    // Events come in bursts (create, network connect, start): let it finish.
                    std::thread::sleep(Duration::from_millis(100));
                    self.publish(endpoint.view());
                }
            }
        }
    }

    #[cfg(not(unix))]
    #[allow(clippy::unused_self)] // the Unix version publishes through it
    fn follow_events(&self, _endpoint: &Endpoint) {
        std::thread::sleep(RETRY);
    }
}

impl EngineSource for EngineWatch {
    fn view(&mut self) -> (u64, Arc<EngineView>) {
        let latest = self
            .latest
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        (latest.0, Arc::clone(&latest.1))
    }
}

/// A collector whose snapshots also say which container stands behind a port.
pub struct WithContainers {
    inner: Box<dyn Collector>,
    engine: Box<dyn EngineSource>,
    /// The engine answer the inner collector's last snapshot was joined with: a tick where
    /// neither changed returns nothing new. The snapshot itself is not kept (at 100,000 sockets
    /// a copy is most of loopwatch's memory): the inner collector makes it again when only the
    /// engine changed.
    last: Option<u64>,
    /// An engine proxy has been seen holding a published port: this engine publishes through
    /// proxies, so a published port with no socket is not held at all.
    proxies: Proxies,
}

impl WithContainers {
    pub fn new(inner: Box<dyn Collector>, engine: Box<dyn EngineSource>) -> Self {
        Self {
            inner,
            engine,
            last: None,
            proxies: Proxies::NotSeen,
        }
    }
}

impl Collector for WithContainers {
    fn collect(&mut self, query: &Query) -> Result<Snapshot, CollectError> {
        let snapshot = self
            .inner
            .collect(query)
            .inspect_err(|_| self.last = None)?;
        let (generation, view) = self.engine.view();
        self.last = Some(generation);
        Ok(attach(snapshot, &view, query, &mut self.proxies))
    }

    fn collect_changed(&mut self, query: &Query) -> Result<Option<Snapshot>, CollectError> {
        let fresh = self
            .inner
            .collect_changed(query)
            .inspect_err(|_| self.last = None)?;
        let (generation, view) = self.engine.view();
        let snapshot = match (fresh, self.last) {
            (Some(snapshot), _) => snapshot,
            (None, Some(seen)) if seen != generation => match self.inner.last_again() {
                Some(previous) => previous,
                None => self.inner.collect(query)?,
            },
            (None, _) => return Ok(None),
        };
        self.last = Some(generation);
        Ok(Some(attach(snapshot, &view, query, &mut self.proxies)))
    }

    /// Passed through as it is: the containers are named, and rows added for ports published
    /// by NAT rules alone, once the owners (the engine's proxies among them) are known, a
    /// moment later. Without owners a port a proxy holds would look NAT-only.
    fn sockets_first(&mut self, query: &Query) -> Result<Option<Snapshot>, CollectError> {
        self.inner.sockets_first(query)
    }
}

/// Whether the engine has been seen publishing a port through a proxy process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Proxies {
    NotSeen,
    Seen,
}

/// Names the container behind each engine proxy's socket (and each socket on a published port
/// whose holder is hidden), and adds a row for every published port nothing listens on.
///
/// Those rows are added only while no engine proxy has been seen (`proxies`, updated here):
/// an engine publishes every port the same way, so where proxies hold ports, a published port
/// without one is a container on its way down whose proxy already exited (the engine's listing
/// lags the sockets by a moment), not a port forwarded by NAT rules.
pub fn attach(
    mut snapshot: Snapshot,
    view: &EngineView,
    query: &Query,
    proxies: &mut Proxies,
) -> Snapshot {
    let containers = view.containers();
    for socket in &mut snapshot.sockets {
        socket.container = behind(socket, containers).cloned();
        // A socket of its own (a proxy's, or one hidden from this user) on a published port.
        if socket.container.is_some() && socket.state.is_listening() {
            *proxies = Proxies::Seen;
        }
    }
    let containers = if *proxies == Proxies::Seen {
        &[]
    } else {
        containers
    };
    let mut nat = Vec::new();
    for container in containers {
        for published in &container.ports {
            let addr = published.host_addr.unwrap_or_else(|| unspecified(false));
            let state = match published.proto {
                crate::model::Proto::Tcp => SocketState::Listen,
                crate::model::Proto::Udp => SocketState::Bound,
            };
            let held = snapshot.sockets.iter().any(|s| {
                s.proto == published.proto
                    && s.local_port == published.host_port
                    && s.state.is_listening()
                    && s.local_addr == addr
            });
            let scope = Scope::of(addr);
            if held || !query.admits(scope, state, published.host_port) {
                continue;
            }
            nat.push(Socket {
                proto: published.proto,
                local_addr: addr,
                local_port: published.host_port,
                remote: None,
                state,
                scope,
                inode: 0,
                uid: None,
                user: None,
                owners: [].into(),
                unknown: Some(UnknownOwner::Nat),
                container: Some(Arc::clone(container)),
                forward: None,
            });
        }
    }
    snapshot.sockets.extend(nat);
    snapshot.put_in_listing_order();
    snapshot.engine = view.clone();
    snapshot
}

/// The container a socket serves: a listener on a port the container publishes, held by an
/// engine proxy or by a holder this user cannot see; or a proxy's connection to the container.
fn behind<'a>(socket: &Socket, containers: &'a [Arc<Container>]) -> Option<&'a Arc<Container>> {
    let proxied = socket.owners.iter().any(|o| is_engine_proxy(o.name.raw()));
    let hidden = socket.owners.is_empty() && socket.unknown == Some(UnknownOwner::PermissionDenied);
    if !(proxied || hidden) {
        return None;
    }
    if socket.state.is_listening() {
        return containers.iter().find(|c| {
            c.publishing(socket.proto, socket.local_addr, socket.local_port)
                .is_some()
        });
    }
    let (remote, _) = socket.remote?;
    proxied
        .then(|| containers.iter().find(|c| c.addresses.contains(&remote)))
        .flatten()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::fixtures::{hidden_listener, listener, owner};
    use crate::model::{Proto, PublishedPort};

    fn web() -> Arc<Container> {
        Arc::new(Container {
            id: "0f99e7bbe4febced82d7b90e15dd5aec23f10690043d6275e5349d63a130e477".into(),
            name: "web".into(),
            image: "nginx:1.27".into(),
            compose: None,
            addresses: vec!["172.17.0.2".parse().unwrap()],
            ports: vec![
                PublishedPort {
                    proto: Proto::Tcp,
                    host_addr: Some("127.0.0.1".parse().unwrap()),
                    host_port: 8080,
                    container_port: 80,
                },
                PublishedPort {
                    proto: Proto::Tcp,
                    host_addr: Some("0.0.0.0".parse().unwrap()),
                    host_port: 9090,
                    container_port: 90,
                },
            ],
        })
    }

    fn listed(containers: Vec<Arc<Container>>) -> EngineView {
        EngineView::Listed {
            endpoint: "unix:///var/run/docker.sock".into(),
            containers,
        }
    }

    #[test]
    fn a_proxy_socket_names_its_container() {
        let proxy = owner(
            5644,
            "docker-proxy",
            "root",
            "/usr/bin/docker-proxy -proto tcp",
        );
        let snapshot = Snapshot {
            sockets: vec![
                listener("127.0.0.1", 8080, vec![proxy]),
                listener(
                    "127.0.0.1",
                    3000,
                    vec![owner(4812, "node", "alice", "node")],
                ),
            ],
            ..Snapshot::default()
        };
        let mut proxies = Proxies::NotSeen;
        let joined = attach(
            snapshot,
            &listed(vec![web()]),
            &Query::default(),
            &mut proxies,
        );
        let on = |port: u16| joined.sockets.iter().find(|s| s.local_port == port);
        assert_eq!(
            on(8080).unwrap().container.as_ref().map(|c| c.name.raw()),
            Some("web")
        );
        assert_eq!(
            on(3000).unwrap().container,
            None,
            "a process of its own is not a container's"
        );
        assert_eq!(proxies, Proxies::Seen);
        assert!(
            on(9090).is_none(),
            "this engine publishes through proxies: 9090 without one is not held at all"
        );
    }

    #[test]
    fn an_engine_without_proxies_gets_a_row_per_published_port_until_a_proxy_shows() {
        let mut proxies = Proxies::NotSeen;
        let joined = attach(
            Snapshot::default(),
            &listed(vec![web()]),
            &Query::default(),
            &mut proxies,
        );
        assert_eq!(joined.sockets.len(), 2);
        let nat = joined
            .sockets
            .iter()
            .find(|s| s.local_port == 9090)
            .unwrap();
        assert_eq!(nat.unknown, Some(UnknownOwner::Nat));
        assert_eq!(nat.scope, Scope::AllInterfaces);
        assert!(nat.owners.is_empty() && nat.container.is_some());
        assert_eq!(proxies, Proxies::NotSeen);

        // The container goes down: its proxy exits a moment before the engine's listing says so.
        let proxy = owner(
            5644,
            "docker-proxy",
            "root",
            "/usr/bin/docker-proxy -proto tcp",
        );
        let with_proxy = Snapshot {
            sockets: vec![listener("127.0.0.1", 8080, vec![proxy])],
            ..Snapshot::default()
        };
        attach(
            with_proxy,
            &listed(vec![web()]),
            &Query::default(),
            &mut proxies,
        );
        let after = attach(
            Snapshot::default(),
            &listed(vec![web()]),
            &Query::default(),
            &mut proxies,
        );
        assert!(after.sockets.is_empty(), "no phantom rows: {after:?}");
    }

    #[test]
    fn a_hidden_holder_of_a_published_port_is_named_by_the_engine_but_a_stranger_is_not() {
        let snapshot = Snapshot {
            sockets: vec![hidden_listener("127.0.0.1", 8080, 0, "root")],
            ..Snapshot::default()
        };
        let joined = attach(
            snapshot,
            &listed(vec![web()]),
            &Query::default(),
            &mut Proxies::NotSeen,
        );
        assert!(joined.sockets[0].container.is_some());
        assert_eq!(
            joined.sockets[0].unknown,
            Some(UnknownOwner::PermissionDenied)
        );

        let squatter = Snapshot {
            sockets: vec![listener(
                "0.0.0.0",
                9090,
                vec![owner(7, "nc", "bob", "nc -l 9090")],
            )],
            ..Snapshot::default()
        };
        let joined = attach(
            squatter,
            &listed(vec![web()]),
            &Query::default(),
            &mut Proxies::NotSeen,
        );
        assert_eq!(
            joined.sockets.len(),
            2,
            "the 127.0.0.1:8080 row was added: {joined:?}"
        );
        let nc = joined.sockets.iter().find(|s| s.local_port == 9090);
        assert_eq!(
            nc.map(|s| &s.container),
            Some(&None),
            "nc is not the engine's"
        );
    }

    #[test]
    fn published_rows_obey_the_query_and_an_unreachable_engine_adds_nothing() {
        let by_port = attach(
            Snapshot::default(),
            &listed(vec![web()]),
            &Query::port(9090),
            &mut Proxies::NotSeen,
        );
        assert_eq!(by_port.sockets.len(), 1);
        assert_eq!(by_port.sockets[0].local_port, 9090);
        let unreachable = EngineView::Unreachable {
            endpoint: "unix:///var/run/docker.sock".into(),
            reason: "permission denied".into(),
        };
        let joined = attach(
            Snapshot::default(),
            &unreachable,
            &Query::default(),
            &mut Proxies::NotSeen,
        );
        assert!(joined.sockets.is_empty());
        assert_eq!(
            joined.engine, unreachable,
            "the reason travels with the snapshot"
        );
    }

    struct Scripted(Vec<(u64, EngineView)>);

    impl EngineSource for Scripted {
        fn view(&mut self) -> (u64, Arc<EngineView>) {
            let (generation, view) = if self.0.len() > 1 {
                self.0.remove(0)
            } else {
                self.0[0].clone()
            };
            (generation, Arc::new(view))
        }
    }

    #[test]
    fn an_engine_change_alone_makes_a_new_snapshot() {
        let inner = crate::collect::fake::FakeCollector::new(vec![Snapshot::default()]);
        let mut collector = WithContainers::new(
            Box::new(inner),
            Box::new(Scripted(vec![
                (0, EngineView::Absent),
                (0, EngineView::Absent),
                (1, listed(vec![web()])),
            ])),
        );
        let query = Query::default();
        assert!(
            collector.collect_changed(&query).unwrap().is_some(),
            "the first tick"
        );
        assert!(
            collector.collect_changed(&query).unwrap().is_none(),
            "nothing changed"
        );
        let third = collector
            .collect_changed(&query)
            .unwrap()
            .expect("the engine changed");
        assert_eq!(third.sockets.len(), 2, "both published ports now show");
        assert!(collector.collect_changed(&query).unwrap().is_none());
    }
}
