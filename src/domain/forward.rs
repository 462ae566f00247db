//! Where a port leads: the forwards `ssh`, `kubectl port-forward`, `socat` and `docker-proxy`
//! set up, read from the owner's command line, and which of them a listening socket is the
//! local end of.
//!
//! Strict by design. A command line the program itself refuses (it would have exited, so no
//! live process has it) sets up nothing; an argument this reader is not sure of (an
//! environment variable ssh expands, a service name, a host name holding control characters
//! or bytes that were not UTF-8) yields no forward rather than a wrong one. Every step is
//! linear in the command line's length, and no input panics.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;

use crate::model::{
    Bind, Direction, Forward, Forwarder, Leads, Listen, OsText, Owner, PortRef, ProcKey, Proto,
    Socket, is_unsafe, normalize_addr,
};

/// The longest host name a resolver takes (NI_MAXHOST less its NUL); ssh refuses longer.
const MAX_HOST: usize = 1024;
/// The longest Unix socket path (`sun_path` less its NUL); ssh refuses longer.
const MAX_PATH: usize = 107;
/// Any other name: a Kubernetes resource, a program's command line.
const MAX_FIELD: usize = 1024;

/// The programs whose command lines say where they forward, by `argv[0]`'s base name.
const FORWARDERS: [&str; 4] = ["ssh", "kubectl", "socat", "docker-proxy"];

/// Every forward `argv` sets up, in the order it gives them; empty for any other program, and
/// for a command line its program would refuse.
pub(crate) fn parse(argv: &[OsText]) -> Vec<Forward> {
    let Some(program) = argv.first() else {
        return Vec::new();
    };
    let rest = &argv[1..];
    match base_name(program.raw()) {
        "ssh" => ssh(rest).unwrap_or_default(),
        "kubectl" => kubectl(rest).unwrap_or_default(),
        "socat" => socat(rest).into_iter().collect(),
        "docker-proxy" => docker_proxy(rest).into_iter().collect(),
        _ => Vec::new(),
    }
}

/// Whether `owner` runs one of the programs [`parse`] reads: its `argv[0]` names one, and so
/// does its process name. A process may rename either (`exec -a ssh`, `prctl`) to pass for a
/// forwarder; one that is not what it claims to be rarely changes both. A cheap test, made
/// before the reading.
pub(crate) fn is_forwarder(owner: &Owner) -> bool {
    owner.argv.first().is_some_and(|program| {
        let program = base_name(program.raw());
        FORWARDERS.contains(&program) && owner.name == program
    })
}

fn base_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// Sets each socket's `forward`: on a listening socket whose first owner is a forwarder (see
/// [`is_forwarder`]), the forward it is the local end of; on every other socket, none. Each owner's command line is
/// read once, however many sockets it holds, and its forwards are looked up by port and
/// address, so even a process with thousands of forwards and sockets costs linear time.
pub(crate) fn attach(sockets: &mut [Socket]) {
    let mut read: HashMap<ProcKey, Indexed> = HashMap::new();
    for socket in sockets.iter_mut() {
        socket.forward = None;
        if !socket.state.is_listening() {
            continue;
        }
        let Some(owner) = socket.owners.first() else {
            continue;
        };
        if !is_forwarder(owner) {
            continue;
        }
        let indexed = read
            .entry(owner.key)
            .or_insert_with(|| Indexed::of(parse(&owner.argv)));
        socket.forward = indexed.leading(socket.proto, socket.local_addr, socket.local_port);
    }
}

/// Which of some forwards fit a socket: none, one (or several leading to one place: the first),
/// or several leading apart, when which one holds the socket is not known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fit {
    Nothing,
    One(usize),
    Apart,
}

/// What kind of address a socket is on: all that a bind other than one address tells apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum AddrKind {
    Loopback,
    Unspecified,
    Other,
}

impl AddrKind {
    fn of(addr: IpAddr) -> Self {
        if addr.is_loopback() {
            AddrKind::Loopback
        } else if addr.is_unspecified() {
            AddrKind::Unspecified
        } else {
            AddrKind::Other
        }
    }

    /// Whether `bind`, unless it is one address, admits this kind of address.
    fn admitted_by(self, bind: &Bind) -> bool {
        match bind {
            Bind::Loopback => self == AddrKind::Loopback,
            Bind::Wildcard => self == AddrKind::Unspecified,
            Bind::Name(_) => true,
            Bind::Addr(_) => false,
        }
    }
}

/// One process's forwards that listen here, by port and address.
struct Indexed {
    forwards: Vec<Arc<Forward>>,
    /// Forwards bound to one address, by their port and that address.
    exact: HashMap<(u16, IpAddr), Vec<usize>>,
    /// Forwards bound to many addresses (localhost, every interface, a name), by their port.
    loose: HashMap<u16, Vec<usize>>,
    /// Forwards on a port the forwarder picks itself.
    unnamed: Vec<usize>,
    /// What `loose` (by port) or `unnamed` (no port) came to for a protocol and kind of address.
    worked_out: HashMap<(Proto, Option<u16>, AddrKind), Fit>,
}

impl Indexed {
    fn of(forwards: Vec<Forward>) -> Self {
        let mut indexed = Self {
            forwards: Vec::with_capacity(forwards.len()),
            exact: HashMap::new(),
            loose: HashMap::new(),
            unnamed: Vec::new(),
            worked_out: HashMap::new(),
        };
        for (i, forward) in forwards.into_iter().enumerate() {
            if let (Direction::Local | Direction::Dynamic, Listen::Port { binds, port }) =
                (forward.direction, &forward.listen)
            {
                match port {
                    Some(port) => {
                        for bind in binds {
                            if let Bind::Addr(addr) = bind {
                                let key = (*port, normalize_addr(*addr));
                                indexed.exact.entry(key).or_default().push(i);
                            }
                        }
                        if binds.iter().any(|b| !matches!(b, Bind::Addr(_))) {
                            indexed.loose.entry(*port).or_default().push(i);
                        }
                    }
                    None => indexed.unnamed.push(i),
                }
            }
            indexed.forwards.push(Arc::new(forward));
        }
        indexed
    }

    /// The forward a `proto` socket listening on `addr:port` here is the local end of: the one
    /// naming that port (on an address the socket is on), else the one listening on a port it
    /// picks itself. `None` when none fits, or when the ones that fit lead apart.
    fn leading(&mut self, proto: Proto, addr: IpAddr, port: u16) -> Option<Arc<Forward>> {
        let addr = normalize_addr(addr);
        let kind = AddrKind::of(addr);
        let exact = self.exact.get(&(port, addr)).map_or(&[][..], Vec::as_slice);
        let exact = self.fit(
            exact
                .iter()
                .copied()
                .filter(|&i| self.forwards[i].proto == proto),
        );
        let loose = self.loose_fit(proto, Some(port), kind);
        let found = match self.combine(exact, loose) {
            Fit::Nothing => self.loose_fit(proto, None, kind),
            fit => fit,
        };
        match found {
            Fit::One(i) => Some(Arc::clone(&self.forwards[i])),
            Fit::Nothing | Fit::Apart => None,
        }
    }

    /// How the forwards on `port` (or, for `None`, on a port they pick) whose bind admits a
    /// `kind` of address fit: worked out once per protocol, port and kind, since every socket
    /// of that kind on that port gets the same answer.
    fn loose_fit(&mut self, proto: Proto, port: Option<u16>, kind: AddrKind) -> Fit {
        if let Some(&fit) = self.worked_out.get(&(proto, port, kind)) {
            return fit;
        }
        let candidates = match port {
            Some(port) => self.loose.get(&port).map_or(&[][..], Vec::as_slice),
            None => &self.unnamed,
        };
        let fit = self.fit(candidates.iter().copied().filter(|&i| {
            let forward = &self.forwards[i];
            forward.proto == proto
                && matches!(&forward.listen, Listen::Port { binds, .. }
                    if binds.iter().any(|b| kind.admitted_by(b)))
        }));
        self.worked_out.insert((proto, port, kind), fit);
        fit
    }

    fn fit(&self, candidates: impl Iterator<Item = usize>) -> Fit {
        candidates.fold(Fit::Nothing, |fit, i| self.combine(fit, Fit::One(i)))
    }

    fn combine(&self, a: Fit, b: Fit) -> Fit {
        match (a, b) {
            (Fit::Nothing, fit) | (fit, Fit::Nothing) => fit,
            (Fit::One(x), Fit::One(y)) => {
                let (one, other) = (&self.forwards[x], &self.forwards[y]);
                if one.via == other.via && one.target == other.target {
                    Fit::One(x.min(y))
                } else {
                    Fit::Apart
                }
            }
            _ => Fit::Apart,
        }
    }
}

// ----- names, ports, addresses -----

/// Text with no character a terminal acts on or hides, no white space, and no U+FFFD (which
/// stands for bytes that were not UTF-8: the real name is not known).
fn plain(text: &str) -> bool {
    !text
        .chars()
        .any(|c| is_unsafe(c) || c.is_whitespace() || c == '\u{fffd}')
}

/// A host name or address as a resolver could take it.
fn host(text: &str) -> Option<OsText> {
    (!text.is_empty() && text.len() <= MAX_HOST && plain(text)).then(|| OsText::from(text))
}

/// A port number from 0 to 65535 in decimal digits only.
fn number(text: &str) -> Option<u16> {
    if text.is_empty() || text.len() > 5 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// A service or port name (`postgresql`, `https`): a letter, then letters, digits, `-`, `_`.
fn port_name(text: &str) -> Option<OsText> {
    let mut chars = text.chars();
    let first = chars.next()?;
    (text.len() <= 32
        && first.is_ascii_alphabetic()
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'))
    .then(|| OsText::from(text))
}

/// What a port argument is.
enum PortText {
    Number(u16),
    Name(OsText),
    Bad,
}

fn port_text(text: &str) -> PortText {
    if let Some(n) = number(text) {
        return PortText::Number(n);
    }
    if text.bytes().all(|b| b.is_ascii_digit()) {
        return PortText::Bad;
    }
    port_name(text).map_or(PortText::Bad, PortText::Name)
}

/// A bind address as typed: `localhost`, `*` or empty (every interface), an address, a name.
fn bind(text: &str) -> Option<Bind> {
    match text {
        "" | "*" => Some(Bind::Wildcard),
        "localhost" => Some(Bind::Loopback),
        _ => match text.parse::<IpAddr>() {
            Ok(addr) => Some(Bind::Addr(addr)),
            Err(_) => host(text).map(Bind::Name),
        },
    }
}

// ----- ssh -----

/// ssh's options that take a value (OpenSSH's getopt string).
const SSH_WITH_VALUE: &str = "BbcDEeFIiJLlmOoPpQRSWw";
/// ssh's options that take none.
const SSH_FLAGS: &str = "1246AaCfGgKkMNnqsTtVvXxYy";

/// What a command line's options set that matters here.
#[derive(Default)]
struct SshLine<'a> {
    specs: Vec<(Direction, String)>,
    /// `-g`, which wins over any `GatewayPorts`.
    gateway_flag: bool,
    /// `-o GatewayPorts`, `-o ClearAllForwardings`: the first given wins, as in ssh.
    gateway: Option<bool>,
    clear: Option<bool>,
    /// `-J`, or `-o ProxyJump` (`none` is no jump).
    jump: Option<&'a str>,
    /// `-W host:port`: a stdio forward, which clears the others unless told not to.
    stdio: bool,
}

/// Why a command line yields nothing: ssh would refuse it.
struct Refused;

/// `ssh [options] destination [options] [command]`: ssh reads options before and after the
/// destination, up to the command (or `--`).
fn ssh(args: &[OsText]) -> Option<Vec<Forward>> {
    let mut line = SshLine::default();
    let mut destination: Option<&str> = None;
    let mut terminated = false;
    let mut args = args.iter().map(OsText::raw);
    while let Some(arg) = args.next() {
        if arg == "--" && !terminated {
            if destination.is_some() {
                break;
            }
            terminated = true;
            continue;
        }
        let option = !terminated && arg.len() > 1 && arg.starts_with('-');
        if !option {
            if destination.is_some() {
                break;
            }
            destination = Some(arg);
            if terminated {
                break;
            }
            continue;
        }
        let mut rest = &arg[1..];
        while let Some(letter) = rest.chars().next() {
            rest = &rest[letter.len_utf8()..];
            if SSH_FLAGS.contains(letter) {
                match letter {
                    // Print and exit: no forward lives on.
                    'G' | 'V' => return None,
                    'g' => line.gateway_flag = true,
                    _ => {}
                }
                continue;
            }
            if !SSH_WITH_VALUE.contains(letter) {
                return None;
            }
            let value = if rest.is_empty() { args.next()? } else { rest };
            ssh_option(&mut line, letter, value).ok()?;
            break;
        }
    }
    let destination = destination.filter(|d| ssh_destination(d))?;
    if line.clear == Some(true) || (line.stdio && line.clear.is_none()) {
        return Some(Vec::new());
    }
    let gateway = line.gateway_flag || line.gateway == Some(true);
    let jump = line.jump.filter(|j| *j != "none").map(OsText::from);
    let mut forwards = Vec::new();
    for (direction, spec) in &line.specs {
        if let Some((listen, target)) = ssh_forward(spec, *direction, gateway).ok()? {
            forwards.push(Forward {
                via: Forwarder::Ssh,
                direction: *direction,
                proto: Proto::Tcp,
                listen,
                target,
                destination: Some(destination.into()),
                jump: jump.clone(),
                namespace: None,
            });
        }
    }
    Some(forwards)
}

fn ssh_option<'a>(line: &mut SshLine<'a>, letter: char, value: &'a str) -> Result<(), Refused> {
    match letter {
        'L' => line.specs.push((Direction::Local, value.to_string())),
        'R' => line.specs.push((Direction::Remote, value.to_string())),
        'D' => line.specs.push((Direction::Dynamic, value.to_string())),
        'J' => {
            // ssh allows one -J, and none after a ProxyJump.
            if line.jump.is_some() || !ssh_destination(value) {
                return Err(Refused);
            }
            line.jump = Some(value);
        }
        'W' => line.stdio = true,
        // A control command: the master process holds the forwards, not this one.
        'O' => return Err(Refused),
        'o' => ssh_config(line, value)?,
        _ => {}
    }
    Ok(())
}

/// One `-o` line: `Keyword value`, `Keyword=value` or `Keyword = value`, keywords in any case.
fn ssh_config<'a>(line: &mut SshLine<'a>, text: &'a str) -> Result<(), Refused> {
    let text = text.trim_start_matches(|c: char| c.is_ascii_whitespace());
    let end = text
        .find(|c: char| c.is_ascii_whitespace() || c == '=')
        .unwrap_or(text.len());
    let (keyword, rest) = text.split_at(end);
    let rest = rest.trim_start_matches(|c: char| c.is_ascii_whitespace());
    let rest = rest.strip_prefix('=').unwrap_or(rest);
    let is = |name: &str| keyword.eq_ignore_ascii_case(name);
    let relevant = [
        "LocalForward",
        "RemoteForward",
        "DynamicForward",
        "ClearAllForwardings",
        "GatewayPorts",
        "ProxyJump",
    ];
    if !relevant.iter().any(|name| is(name)) {
        return Ok(());
    }
    if rest.contains(['"', '\'']) {
        // Quoted arguments: ssh's own splitting is not reproduced here.
        return Err(Refused);
    }
    let words: Vec<&str> = rest.split_ascii_whitespace().collect();
    let yes_no = |words: &[&str]| match words {
        [word] if word.eq_ignore_ascii_case("yes") => Ok(true),
        [word] if word.eq_ignore_ascii_case("no") => Ok(false),
        _ => Err(Refused),
    };
    if is("LocalForward") {
        let [listen, connect] = words[..] else {
            return Err(Refused);
        };
        line.specs
            .push((Direction::Local, format!("{listen}:{connect}")));
    } else if is("RemoteForward") {
        let spec = match words[..] {
            [listen] => listen.to_string(),
            [listen, connect] => format!("{listen}:{connect}"),
            _ => return Err(Refused),
        };
        line.specs.push((Direction::Remote, spec));
    } else if is("DynamicForward") {
        let [listen] = words[..] else {
            return Err(Refused);
        };
        line.specs.push((Direction::Dynamic, listen.to_string()));
    } else if is("ClearAllForwardings") {
        let value = yes_no(&words)?;
        line.clear.get_or_insert(value);
    } else if is("GatewayPorts") {
        let value = yes_no(&words)?;
        line.gateway.get_or_insert(value);
    } else {
        let [jump] = words[..] else {
            return Err(Refused);
        };
        if line.jump.is_none() {
            if !ssh_destination(jump) {
                return Err(Refused);
            }
            line.jump = Some(jump);
        }
    }
    Ok(())
}

/// A destination (or jump host) ssh would connect to: it refuses a leading `-`, white space,
/// controls and shell metacharacters; non-UTF-8 bytes and format characters are refused here.
fn ssh_destination(text: &str) -> bool {
    !text.is_empty()
        && !text.starts_with('-')
        && text.len() <= MAX_HOST
        && plain(text)
        && !text.contains([
            '\'', '`', '"', '$', '\\', ';', '&', '<', '>', '|', '(', ')', '{', '}',
        ])
}

/// One field of a forward specification, as ssh splits it: `[...]` taken literally, `\`
/// escaping the next character, and a `/` anywhere making it a Unix socket path.
struct Field {
    text: String,
    path: bool,
}

/// ssh's fields (at most four, separated by `:`); `Err` when ssh would refuse the text.
fn ssh_fields(spec: &str) -> Result<Vec<Field>, Refused> {
    let mut rest = spec.trim_start_matches(|c: char| c.is_ascii_whitespace());
    let mut fields = Vec::new();
    while fields.len() < 4 && !rest.is_empty() {
        if let Some(inner) = rest.strip_prefix('[') {
            let close = inner.find(']').ok_or(Refused)?;
            let (text, after) = (&inner[..close], &inner[close + 1..]);
            rest = match after.strip_prefix(':') {
                Some(next) => next,
                None if after.is_empty() => after,
                None => return Err(Refused),
            };
            fields.push(Field {
                text: text.to_string(),
                path: text.contains('/'),
            });
            continue;
        }
        let mut field = Field {
            text: String::new(),
            path: false,
        };
        let mut chars = rest.char_indices();
        let mut next = rest.len();
        while let Some((at, c)) = chars.next() {
            match c {
                '\\' => field.text.push(chars.next().ok_or(Refused)?.1),
                ':' => {
                    next = at + 1;
                    break;
                }
                c => {
                    field.path |= c == '/';
                    field.text.push(c);
                }
            }
        }
        rest = &rest[next..];
        fields.push(field);
    }
    if rest.is_empty() {
        Ok(fields)
    } else {
        Err(Refused)
    }
}

/// Where a forward listens and leads, from its specification: `Err` when ssh refuses it,
/// `Ok(None)` when it is valid but not certain here (a name to resolve, `${VAR}`).
fn ssh_forward(
    spec: &str,
    direction: Direction,
    gateway: bool,
) -> Result<Option<(Listen, Leads)>, Refused> {
    if spec.contains("${") {
        // ssh expands environment variables this process cannot see.
        return Ok(None);
    }
    let parsed = match direction {
        Direction::Dynamic => ssh_dynamic(&ssh_fields(spec)?, false),
        Direction::Local => ssh_connecting(&ssh_fields(spec)?, false),
        Direction::Remote => match ssh_fields(spec) {
            Ok(fields) => ssh_connecting(&fields, true).or_else(|_| ssh_dynamic(&fields, true)),
            Err(refused) => Err(refused),
        },
    };
    let parsed = match parsed {
        Ok(parsed) => parsed,
        // OpenSSH before 6.7 also took `port/host/hostport`; later ones exit on it.
        Err(refused) => match legacy_slashes(spec) {
            Some(fields) if direction != Direction::Dynamic => {
                ssh_connecting(&fields, direction == Direction::Remote)?
            }
            _ => return Err(refused),
        },
    };
    let Some(raw) = parsed else {
        return Ok(None);
    };
    let listen = match raw.listen {
        RawListen::Path(path) => Listen::Path(path),
        RawListen::Port(host, port) => {
            let binds = match host {
                None if gateway && direction != Direction::Remote => vec![Bind::Wildcard],
                None => vec![Bind::Loopback],
                Some(text) => match bind(&text) {
                    Some(b) => vec![b],
                    None => return Ok(None),
                },
            };
            Listen::Port {
                binds,
                port: Some(port),
            }
        }
    };
    Ok(Some((listen, raw.target)))
}

enum RawListen {
    Port(Option<String>, u16),
    Path(OsText),
}

struct RawForward {
    listen: RawListen,
    target: Leads,
}

/// `port/host/hostport` or `bind/port/host/hostport` (the host may be IPv6).
fn legacy_slashes(spec: &str) -> Option<Vec<Field>> {
    if spec.contains(['[', '\\']) {
        return None;
    }
    let parts: Vec<&str> = spec.split('/').collect();
    (matches!(parts.len(), 3 | 4) && parts.iter().all(|p| !p.is_empty())).then(|| {
        parts
            .into_iter()
            .map(|text| Field {
                text: text.to_string(),
                path: false,
            })
            .collect()
    })
}

fn ssh_path(text: &str) -> Result<Option<OsText>, Refused> {
    if text.len() > MAX_PATH {
        return Err(Refused);
    }
    Ok((!text.is_empty() && !text.contains('\u{fffd}')).then(|| OsText::from(text)))
}

/// A listening port: 0 only where the server picks it (`-R`).
fn ssh_listen_port(text: &str, remote: bool) -> Result<Option<u16>, Refused> {
    match port_text(text) {
        PortText::Number(0) if !remote => Err(Refused),
        PortText::Number(n) => Ok(Some(n)),
        PortText::Name(_) => Ok(None),
        PortText::Bad => Err(Refused),
    }
}

fn ssh_target_host(host_text: &str, port: &str) -> Result<Option<Leads>, Refused> {
    if host_text.len() > MAX_HOST {
        return Err(Refused);
    }
    let port = match port_text(port) {
        PortText::Number(0) | PortText::Bad => return Err(Refused),
        PortText::Number(n) => PortRef::Number(n),
        PortText::Name(name) => PortRef::Name(name),
    };
    Ok(host(host_text).map(|host| Leads::Host { host, port }))
}

/// `-L`/`-R` forms: `[bind:]port:host:hostport`, `[bind:]port:socket`, `socket:host:hostport`,
/// `socket:socket`.
fn ssh_connecting(fields: &[Field], remote: bool) -> Result<Option<RawForward>, Refused> {
    let port_listen = |bind: Option<&Field>, port: &Field| -> Result<Option<RawListen>, Refused> {
        if bind.is_some_and(|b| b.text.len() > MAX_HOST) {
            return Err(Refused);
        }
        Ok(ssh_listen_port(&port.text, remote)?
            .map(|p| RawListen::Port(bind.map(|b| b.text.clone()), p)))
    };
    let path_listen = |path: &Field| -> Result<Option<RawListen>, Refused> {
        Ok(ssh_path(&path.text)?.map(RawListen::Path))
    };
    let path_target = |path: &Field| -> Result<Option<Leads>, Refused> {
        Ok(ssh_path(&path.text)?.map(Leads::UnixSocket))
    };
    let (listen, target) = match fields {
        [a, b] if a.path && b.path => (path_listen(a)?, path_target(b)?),
        [port, path] if path.path => (port_listen(None, port)?, path_target(path)?),
        [path, host, port] if path.path => {
            (path_listen(path)?, ssh_target_host(&host.text, &port.text)?)
        }
        [bind, port, path] if path.path => (port_listen(Some(bind), port)?, path_target(path)?),
        [port, host, hostport] => (
            port_listen(None, port)?,
            ssh_target_host(&host.text, &hostport.text)?,
        ),
        [bind, port, host, hostport] => (
            port_listen(Some(bind), port)?,
            ssh_target_host(&host.text, &hostport.text)?,
        ),
        _ => return Err(Refused),
    };
    Ok(listen
        .zip(target)
        .map(|(listen, target)| RawForward { listen, target }))
}

/// `-D` (and `-R` with only a listening side): `[bind:]port` or a socket path.
fn ssh_dynamic(fields: &[Field], remote: bool) -> Result<Option<RawForward>, Refused> {
    let listen = match fields {
        [path] if path.path => ssh_path(&path.text)?.map(RawListen::Path),
        [port] => ssh_listen_port(&port.text, remote)?.map(|p| RawListen::Port(None, p)),
        [bind, port] if !bind.path && !port.path => {
            if bind.text.len() > MAX_HOST {
                return Err(Refused);
            }
            ssh_listen_port(&port.text, remote)?
                .map(|p| RawListen::Port(Some(bind.text.clone()), p))
        }
        [_, _] => None,
        _ => return Err(Refused),
    };
    Ok(listen.map(|listen| RawForward {
        listen,
        target: Leads::Socks,
    }))
}

// ----- kubectl port-forward -----

/// kubectl's flags (its own and the global ones) that take a value.
const KUBECTL_WITH_VALUE: [&str; 26] = [
    "address",
    "pod-running-timeout",
    "as",
    "as-group",
    "as-uid",
    "cache-dir",
    "certificate-authority",
    "client-certificate",
    "client-key",
    "cluster",
    "context",
    "kubeconfig",
    "kuberc",
    "log-flush-frequency",
    "namespace",
    "password",
    "profile",
    "profile-output",
    "request-timeout",
    "server",
    "tls-server-name",
    "token",
    "user",
    "username",
    "v",
    "vmodule",
];
/// kubectl's flags that take none (`--flag=false` is also theirs).
const KUBECTL_FLAGS: [&str; 4] = [
    "disable-compression",
    "insecure-skip-tls-verify",
    "match-server-version",
    "warnings-as-errors",
];

/// `kubectl [flags] port-forward [flags] TYPE/NAME [LOCAL:]REMOTE ...`: flags may come
/// anywhere before `--`.
fn kubectl(args: &[OsText]) -> Option<Vec<Forward>> {
    let mut words: Vec<&str> = Vec::new();
    let mut namespace: Option<&str> = None;
    let mut addresses: Option<Vec<&str>> = None;
    let mut args = args.iter().map(OsText::raw);
    while let Some(arg) = args.next() {
        if arg == "--" {
            words.extend(args.by_ref());
            break;
        }
        let (name, inline) = if let Some(long) = arg.strip_prefix("--") {
            match long.split_once('=') {
                Some((name, value)) => (name, Some(value)),
                None => (long, None),
            }
        } else if arg.len() > 1 && arg.starts_with('-') {
            let short = &arg[1..];
            let letter = short.chars().next()?;
            let name = match letter {
                'n' => "namespace",
                's' => "server",
                'v' => "v",
                _ => return None,
            };
            let glued = &short[1..];
            let glued = glued.strip_prefix('=').unwrap_or(glued);
            (name, (!glued.is_empty()).then_some(glued))
        } else {
            words.push(arg);
            continue;
        };
        if KUBECTL_FLAGS.contains(&name) {
            if inline.is_some_and(|v| !matches!(v, "true" | "false")) {
                return None;
            }
            continue;
        }
        if !KUBECTL_WITH_VALUE.contains(&name) {
            return None;
        }
        let value = match inline {
            Some(value) => value,
            None => args.next()?,
        };
        match name {
            "namespace" => namespace = Some(value),
            "address" => {
                if value.contains('"') {
                    return None;
                }
                addresses
                    .get_or_insert_with(Vec::new)
                    .extend(value.split(','));
            }
            _ => {}
        }
    }
    let [command, resource, specs @ ..] = words.as_slice() else {
        return None;
    };
    if *command != "port-forward" || specs.is_empty() {
        return None;
    }
    let resource = kubernetes_resource(resource)?;
    let namespace = match namespace {
        Some(ns) => Some(kubernetes_label(ns)?),
        None => None,
    };
    let binds = match addresses {
        None => vec![Bind::Loopback],
        Some(list) => list
            .iter()
            .map(|a| match *a {
                "localhost" => Some(Bind::Loopback),
                a => a.parse().ok().map(Bind::Addr),
            })
            .collect::<Option<Vec<_>>>()?,
    };
    specs
        .iter()
        .map(|spec| {
            let (local, remote) = kubectl_ports(spec)?;
            Some(Forward {
                via: Forwarder::Kubectl,
                direction: Direction::Local,
                proto: Proto::Tcp,
                listen: Listen::Port {
                    binds: binds.clone(),
                    port: local,
                },
                target: Leads::Kubernetes {
                    resource: resource.clone(),
                    port: remote,
                },
                destination: None,
                jump: None,
                namespace: namespace.clone(),
            })
        })
        .collect()
}

/// `[LOCAL:]REMOTE`: the local port (`None` when kubectl picks it: `:5000`, `0:5000`, or a named
/// remote port alone) and the remote one.
fn kubectl_ports(spec: &str) -> Option<(Option<u16>, PortRef)> {
    let (local, remote) = match spec.split_once(':') {
        Some((local, remote)) => (Some(local), remote),
        None => (None, spec),
    };
    let remote = match port_text(remote) {
        PortText::Number(0) | PortText::Bad => return None,
        PortText::Number(n) => PortRef::Number(n),
        PortText::Name(name) if name.raw().len() <= 15 => PortRef::Name(name),
        PortText::Name(_) => return None,
    };
    let local = match local {
        // REMOTE alone listens on the same port here, unless it is a name.
        None => remote.number(),
        Some("") => None,
        Some(text) => Some(number(text)?).filter(|&n| n != 0),
    };
    Some((local, remote))
}

/// `svc/postgres`, `deployment.apps/web`, or a bare pod name (`pod/NAME`).
fn kubernetes_resource(text: &str) -> Option<OsText> {
    let name_like = |s: &str| {
        !s.is_empty()
            && s.len() <= 253
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_'))
    };
    match text.split_once('/') {
        Some((kind, name)) if name_like(kind) && name_like(name) => Some(text.into()),
        None if name_like(text) => Some(format!("pod/{text}").into()),
        _ => None,
    }
}

/// A namespace: a DNS label, as Kubernetes requires.
fn kubernetes_label(text: &str) -> Option<OsText> {
    (!text.is_empty()
        && text.len() <= 63
        && text
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'))
    .then(|| text.into())
}

// ----- socat -----

/// socat's options that take a value, glued or as the next argument.
const SOCAT_WITH_VALUE: [&str; 10] = ["-lf", "-lp", "-L", "-W", "-r", "-R", "-b", "-t", "-T", "-S"];

/// `socat [options] ADDRESS ADDRESS`: a forward when one address listens and the other names
/// where to.
fn socat(args: &[OsText]) -> Option<Forward> {
    let mut i = 0;
    while let Some(arg) = args.get(i).map(OsText::raw) {
        if !arg.starts_with('-') || arg == "-" || arg.starts_with("-,") || arg.starts_with("-:") {
            break;
        }
        i += 1;
        if let Some(option) = SOCAT_WITH_VALUE.iter().find(|o| arg.starts_with(**o)) {
            if arg.len() == option.len() {
                args.get(i)?;
                i += 1;
            }
            continue;
        }
        let flag = matches!(
            arg,
            "-D" | "-ls"
                | "-lu"
                | "-lh"
                | "-v"
                | "-x"
                | "-s"
                | "-u"
                | "-U"
                | "-g"
                | "-4"
                | "-6"
                | "--experimental"
                | "--statistics"
        ) || arg.starts_with("-ly")
            || arg.starts_with("-lm")
            || (arg.len() > 1 && arg[1..].bytes().all(|b| b == b'd'))
            || (arg.starts_with("-d") && arg.len() == 3 && arg.as_bytes()[2].is_ascii_digit());
        if !flag {
            // -h, -V and anything socat does not know: it prints and exits.
            return None;
        }
    }
    let [first, second] = &args[i..] else {
        return None;
    };
    let ((Address::Listen(listen), Address::Target(target))
    | (Address::Target(target), Address::Listen(listen))) =
        (socat_address(first.raw()), socat_address(second.raw()))
    else {
        return None;
    };
    Some(Forward {
        via: Forwarder::Socat,
        direction: Direction::Local,
        proto: listen.proto,
        listen: Listen::Port {
            binds: vec![listen.bind],
            port: Some(listen.port),
        },
        target,
        destination: None,
        jump: None,
        namespace: None,
    })
}

struct SocatListen {
    proto: Proto,
    bind: Bind,
    port: u16,
}

enum Address {
    Listen(SocatListen),
    Target(Leads),
    /// Any other address, or one not certain here (quoted, dual, nested).
    Other,
}

/// Which family a socat address keyword ties it to.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Family {
    Any,
    V4,
    V6,
}

fn socat_listener(keyword: &str) -> Option<(Proto, Family)> {
    let upper = keyword.to_ascii_uppercase();
    let (proto, rest) = if let Some(rest) = upper.strip_prefix("TCP") {
        (Proto::Tcp, rest)
    } else if let Some(rest) = upper.strip_prefix("UDP") {
        (Proto::Udp, rest)
    } else if matches!(upper.as_str(), "OPENSSL-LISTEN" | "SSL-L") {
        return Some((Proto::Tcp, Family::Any));
    } else {
        return None;
    };
    let (family, kind) = if let Some(kind) = rest.strip_prefix('4') {
        (Family::V4, kind)
    } else if let Some(kind) = rest.strip_prefix('6') {
        (Family::V6, kind)
    } else {
        (Family::Any, rest)
    };
    let listens = match proto {
        Proto::Tcp => matches!(kind, "-LISTEN" | "-L"),
        Proto::Udp => matches!(kind, "-LISTEN" | "-L" | "-RECVFROM" | "-RECV"),
    };
    listens.then_some((proto, family))
}

fn socat_connector(keyword: &str) -> Option<&'static str> {
    const HOST_PORT: [&str; 18] = [
        "TCP",
        "TCP4",
        "TCP6",
        "TCP-CONNECT",
        "TCP4-CONNECT",
        "TCP6-CONNECT",
        "UDP",
        "UDP4",
        "UDP6",
        "UDP-CONNECT",
        "UDP4-CONNECT",
        "UDP6-CONNECT",
        "UDP-SENDTO",
        "UDP4-SENDTO",
        "UDP6-SENDTO",
        "OPENSSL",
        "SSL",
        "OPENSSL-CONNECT",
    ];
    let upper = keyword.to_ascii_uppercase();
    if HOST_PORT.contains(&upper.as_str()) {
        Some("host")
    } else if matches!(upper.as_str(), "UNIX-CONNECT" | "UNIX-CLIENT" | "UNIX") {
        Some("unix")
    } else if matches!(upper.as_str(), "EXEC" | "SYSTEM") {
        Some("program")
    } else if matches!(upper.as_str(), "STDIO" | "STDIN" | "STDOUT") {
        Some("stdio")
    } else {
        None
    }
}

/// `TYPE:param:param,option,option=value`, brackets keeping an IPv6 address whole.
fn socat_address(text: &str) -> Address {
    if text.contains(['"', '\'', '\\', '{', '}']) || text.contains("!!") || text.len() > MAX_FIELD {
        return Address::Other;
    }
    if text == "-" || text.starts_with("-,") {
        return Address::Target(Leads::Stdio);
    }
    let Some(split) = socat_split(text) else {
        return Address::Other;
    };
    let (keyword, params, options) = split;
    if let Some((proto, family)) = socat_listener(keyword) {
        return match params.as_slice() {
            [port] => match number(port).filter(|&p| p != 0) {
                Some(port) => socat_bind(&options, family).map_or(Address::Other, |bind| {
                    Address::Listen(SocatListen { proto, bind, port })
                }),
                None => Address::Other,
            },
            _ => Address::Other,
        };
    }
    let target = match (socat_connector(keyword), params.as_slice()) {
        (Some("host"), [host_text, port]) => {
            let host_text = host_text
                .strip_prefix('[')
                .and_then(|h| h.strip_suffix(']'))
                .unwrap_or(host_text);
            let port = match port_text(port) {
                PortText::Number(0) | PortText::Bad => None,
                PortText::Number(n) => Some(PortRef::Number(n)),
                PortText::Name(name) => Some(PortRef::Name(name)),
            };
            host(host_text)
                .zip(port)
                .map(|(host, port)| Leads::Host { host, port })
        }
        (Some("unix"), [path]) => {
            (!path.is_empty() && path.len() <= MAX_PATH && !path.contains('\u{fffd}'))
                .then(|| Leads::UnixSocket((*path).into()))
        }
        (Some("program"), _) => {
            let command = text
                .split_once(':')
                .map(|(_, rest)| rest.split(',').next().unwrap_or(rest))
                .unwrap_or_default();
            (!command.is_empty() && !command.contains('\u{fffd}'))
                .then(|| Leads::Program(command.into()))
        }
        (Some("stdio"), []) => Some(Leads::Stdio),
        _ => None,
    };
    target.map_or(Address::Other, Address::Target)
}

/// The keyword, the `:` parameters and the `,` options; `None` for unbalanced brackets.
fn socat_split(text: &str) -> Option<(&str, Vec<&str>, Vec<&str>)> {
    let mut depth = 0usize;
    let mut parts: Vec<(char, &str)> = Vec::new();
    let mut start = 0;
    let mut separator = ' ';
    for (at, c) in text.char_indices() {
        match c {
            '[' => depth += 1,
            ']' => depth = depth.checked_sub(1)?,
            ':' | ',' if depth == 0 => {
                parts.push((separator, &text[start..at]));
                separator = c;
                start = at + 1;
            }
            _ => {}
        }
    }
    if depth != 0 {
        return None;
    }
    parts.push((separator, &text[start..]));
    let (_, keyword) = parts.first()?;
    let mut params = Vec::new();
    let mut options = Vec::new();
    for &(separator, part) in &parts[1..] {
        if separator == ':' && options.is_empty() {
            params.push(part);
        } else {
            options.push(part);
        }
    }
    Some((keyword, params, options))
}

/// A listener's address: `bind=` when given, else every interface of its family.
fn socat_bind(options: &[&str], family: Family) -> Option<Bind> {
    let mut family = family;
    let mut bound = None;
    for option in options {
        let (name, value) = option.split_once('=').unwrap_or((option, ""));
        match name.to_ascii_lowercase().as_str() {
            "bind" => {
                let value = value
                    .strip_prefix('[')
                    .and_then(|v| v.split_once(']'))
                    .map_or(value, |(addr, _)| addr);
                bound = Some(match value.parse::<IpAddr>() {
                    Ok(addr) => Bind::Addr(addr),
                    Err(_) => bind(value.split(':').next().unwrap_or(value))?,
                });
            }
            "pf" | "protocol-family" => {
                family = match value.to_ascii_lowercase().as_str() {
                    "ip4" | "ipv4" | "inet" | "4" => Family::V4,
                    "ip6" | "ipv6" | "inet6" | "6" => Family::V6,
                    _ => return None,
                };
            }
            _ => {}
        }
    }
    Some(match (bound, family) {
        (Some(bound), _) => bound,
        (None, Family::V4) => Bind::Addr(IpAddr::from([0, 0, 0, 0])),
        (None, Family::V6) => Bind::Addr(IpAddr::from([0u16; 8])),
        (None, Family::Any) => Bind::Wildcard,
    })
}

// ----- docker-proxy -----

/// `docker-proxy -proto tcp -host-ip 0.0.0.0 -host-port 8080 -container-ip 172.17.0.2
/// -container-port 80` forwards 0.0.0.0:8080 to 172.17.0.2:80 (Go's flags: one dash or two,
/// the value after `=` or as the next argument).
fn docker_proxy(args: &[OsText]) -> Option<Forward> {
    let mut proto = "tcp";
    let mut host_ip = None;
    let mut host_port = None;
    let mut container_ip = None;
    let mut container_port = None;
    let mut args = args.iter().map(OsText::raw);
    while let Some(arg) = args.next() {
        let Some(flag) = arg.strip_prefix("--").or_else(|| arg.strip_prefix('-')) else {
            continue;
        };
        let (name, inline) = match flag.split_once('=') {
            Some((name, value)) => (name, Some(value)),
            None => (flag, None),
        };
        let slot = match name {
            "proto" => &mut proto,
            "host-ip" => host_ip.insert(""),
            "host-port" => host_port.insert(""),
            "container-ip" => container_ip.insert(""),
            "container-port" => container_port.insert(""),
            _ => continue,
        };
        *slot = match inline {
            Some(value) => value,
            None => args.next()?,
        };
    }
    let proto = match proto {
        "tcp" => Proto::Tcp,
        "udp" => Proto::Udp,
        _ => return None,
    };
    let bind = match host_ip {
        None | Some("") => Bind::Wildcard,
        Some(ip) => Bind::Addr(ip.parse().ok()?),
    };
    let container: IpAddr = container_ip?.parse().ok()?;
    Some(Forward {
        via: Forwarder::DockerProxy,
        direction: Direction::Local,
        proto,
        listen: Listen::Port {
            binds: vec![bind],
            port: Some(number(host_port?)?),
        },
        target: Leads::Host {
            host: container.to_string().into(),
            port: PortRef::Number(number(container_port?).filter(|&p| p != 0)?),
        },
        destination: None,
        jump: None,
        namespace: None,
    })
}

// ----- in words -----

/// ssh's far side, in words: `bastion`, `bastion via jump.example`.
fn ssh_far_side(forward: &Forward) -> String {
    let destination = forward
        .destination
        .as_ref()
        .map_or_else(|| "its destination".to_string(), ToString::to_string);
    match &forward.jump {
        Some(jump) => format!("{destination} via {jump}"),
        None => destination,
    }
}

/// One paragraph for explain: what the socket at `local` (held by `holder`, `ssh 4120`) leads
/// to, and what that means.
pub(crate) fn sentence(forward: &Forward, holder: &str, local: &str) -> String {
    let how = forward.how();
    match (forward.via, forward.direction, &forward.target) {
        (Forwarder::Ssh, Direction::Dynamic, _) | (Forwarder::Ssh, _, Leads::Socks) => format!(
            "{holder} is a SOCKS proxy on {local} ({how}): each client names where it wants to go, and {} makes that connection. Stopping {holder} ends the proxy, not the services reached through it.",
            ssh_far_side(forward)
        ),
        (Forwarder::Ssh, _, Leads::UnixSocket(path)) => format!(
            "{holder} forwards {local} to the Unix socket {path} on {} ({how}): connections here reach whatever listens on that socket there. Stopping {holder} ends the tunnel, not that service.",
            ssh_far_side(forward)
        ),
        (Forwarder::Ssh, _, target) => format!(
            "{holder} forwards {local} to {target} as seen from {} ({how}): connections here reach that remote service through the ssh connection. Stopping {holder} ends the tunnel, not the service.",
            ssh_far_side(forward)
        ),
        (Forwarder::Kubectl, _, Leads::Kubernetes { resource, port }) => format!(
            "{holder} forwards {local} to port {port} of {resource}{} ({how}): connections here reach a pod it selects, through the cluster's API server. The forward ends when {holder} stops or that pod goes away; stopping {holder} does not stop the pod.",
            namespace_words(forward)
        ),
        (_, _, Leads::Program(command)) => format!(
            "{holder} answers each connection to {local} with a program it starts, {command} ({how} EXEC/SYSTEM): no other port is behind it."
        ),
        (_, _, Leads::Stdio) => format!(
            "{holder} relays {local} to its own standard input and output ({how} STDIO): no other port is behind it."
        ),
        (Forwarder::DockerProxy, _, target) => format!(
            "{holder} forwards {local} to {target}, a container's address ({how}): the container serves this port; stopping the proxy does not stop it."
        ),
        (_, _, Leads::UnixSocket(path)) => format!(
            "{holder} forwards {local} to the Unix socket {path} ({how}): each connection here is relayed there. Stopping {holder} ends the relay, not the service."
        ),
        (_, _, target) => format!(
            "{holder} forwards {local} to {target} ({how}): each connection here is relayed there. Stopping {holder} ends the relay, not the service."
        ),
    }
}

fn namespace_words(forward: &Forward) -> String {
    forward
        .namespace
        .as_ref()
        .map_or_else(String::new, |ns| format!(" in namespace {ns}"))
}

/// How the forward is set up, for the inspect view's `via` field.
pub(crate) fn via_text(forward: &Forward) -> String {
    let how = forward.how();
    match forward.via {
        Forwarder::Ssh => format!(
            "{how}, through the ssh connection to {}",
            ssh_far_side(forward)
        ),
        Forwarder::Kubectl => match &forward.namespace {
            Some(ns) => format!("{how}, namespace {ns}"),
            None => format!("{how}, the context's namespace"),
        },
        Forwarder::Socat => format!("{how}, relaying each connection"),
        Forwarder::DockerProxy => format!("{how}, for a container engine"),
    }
}

/// Where it leads, for the inspect view's `target` field.
pub(crate) fn target_text(forward: &Forward) -> String {
    match (&forward.target, forward.via) {
        (Leads::Socks, _) => format!(
            "whatever each SOCKS client asks for, reached from {}",
            ssh_far_side(forward)
        ),
        (Leads::UnixSocket(path), Forwarder::Ssh) => {
            format!("the Unix socket {path} on {}", ssh_far_side(forward))
        }
        (Leads::UnixSocket(path), _) => format!("the Unix socket {path}"),
        (target @ Leads::Host { .. }, Forwarder::Ssh) => {
            format!("{target}, as seen from {}", ssh_far_side(forward))
        }
        (target @ Leads::Host { .. }, Forwarder::DockerProxy) => {
            format!("{target}, a container's address")
        }
        (Leads::Kubernetes { resource, port }, _) => {
            format!("port {port} of {resource}, in a pod it selects")
        }
        (Leads::Program(command), _) => {
            format!("a program started for each connection: {command} (not a port)")
        }
        (Leads::Stdio, _) => "socat's own standard input and output (not a port)".to_string(),
        (target, _) => target.to_string(),
    }
}

/// What stopping `holder` does to the forward (and its `others`), and what it leaves running.
pub(crate) fn stop_text(forward: &Forward, holder: &str, others: usize) -> String {
    let also = match others {
        0 => String::new(),
        1 => " and the 1 other forward it sets up".to_string(),
        n => format!(" and the {n} other forwards it sets up"),
    };
    let left = match (&forward.target, forward.via) {
        (_, Forwarder::DockerProxy) => "the container keeps running".to_string(),
        (Leads::Kubernetes { .. }, _) => "the pod keeps running".to_string(),
        (Leads::Socks, _) => "the services its clients reach keep running".to_string(),
        (Leads::Program(_) | Leads::Stdio, _) => return format!("stopping {holder} ends it{also}"),
        (target, _) => format!("the service at {target} keeps running"),
    };
    format!("stopping {holder} ends this forward{also}; {left}")
}

/// One forward in a list of a process's forwards: `-L localhost:15432 → db.internal:5432`.
pub(crate) fn line_text(forward: &Forward) -> String {
    let listen = &forward.listen;
    let target = &forward.target;
    match (forward.via, forward.direction) {
        (Forwarder::Ssh, Direction::Local) => format!("-L {listen} → {target}"),
        (Forwarder::Ssh, Direction::Remote) => {
            let far = forward
                .destination
                .as_ref()
                .map_or_else(|| "the server".to_string(), ToString::to_string);
            format!("-R {listen} on {far} → {target} from here")
        }
        (Forwarder::Ssh, Direction::Dynamic) => format!("-D {listen} → SOCKS"),
        _ => format!("{listen} → {target}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::fixtures::{connection, fuzz_config, listener, owner, udp};
    use crate::model::{SocketState, inert_residue};
    use proptest::prelude::*;

    /// A command line given one argument per element, exactly.
    fn exact(words: &[&str]) -> Vec<Forward> {
        let argv: Vec<OsText> = words.iter().copied().map(OsText::from).collect();
        parse(&argv)
    }

    /// A command line split at spaces.
    fn line(text: &str) -> Vec<Forward> {
        exact(&text.split(' ').collect::<Vec<_>>())
    }

    fn leading(forwards: &[Forward], proto: Proto, addr: IpAddr, port: u16) -> Option<Forward> {
        Indexed::of(forwards.to_vec())
            .leading(proto, addr, port)
            .map(|found| (*found).clone())
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    fn host(name: &str, port: u16) -> Leads {
        Leads::Host {
            host: name.into(),
            port: PortRef::Number(port),
        }
    }

    fn at(binds: Vec<Bind>, port: u16) -> Listen {
        Listen::Port {
            binds,
            port: Some(port),
        }
    }

    /// `(listen, target)` of each forward, for compact comparisons.
    fn ends(forwards: &[Forward]) -> Vec<(Listen, Leads)> {
        forwards
            .iter()
            .map(|f| (f.listen.clone(), f.target.clone()))
            .collect()
    }

    #[test]
    fn ssh_local_forward_in_every_spelling() {
        let plain = line("ssh -N -L 8080:db.internal:5432 bastion");
        assert_eq!(plain.len(), 1);
        let f = &plain[0];
        assert_eq!(
            (f.via, f.direction, f.proto),
            (Forwarder::Ssh, Direction::Local, Proto::Tcp)
        );
        assert_eq!(f.listen, at(vec![Bind::Loopback], 8080));
        assert_eq!(f.target, host("db.internal", 5432));
        assert_eq!(f.destination.as_ref().unwrap(), "bastion");
        assert_eq!(f.jump, None);
        for spelling in [
            "ssh -L8080:db.internal:5432 bastion",
            "ssh -NfL 8080:db.internal:5432 bastion",
            "ssh -NfL8080:db.internal:5432 bastion",
            "/usr/bin/ssh -T -q -L 8080:db.internal:5432 bastion",
            "ssh bastion -L 8080:db.internal:5432 -N",
            "ssh -p 2222 -l ana -i /k -L 8080:db.internal:5432 bastion",
        ] {
            assert_eq!(ends(&line(spelling)), ends(&plain), "{spelling}");
        }
        let with_bind = line("ssh -L 127.0.0.1:15432:db.internal:5432 bastion");
        assert_eq!(
            ends(&with_bind),
            [(
                at(vec![Bind::Addr(ip("127.0.0.1"))], 15432),
                host("db.internal", 5432)
            )]
        );
    }

    #[test]
    fn ssh_local_forward_through_config_options() {
        let expected = [(at(vec![Bind::Loopback], 8080), host("db", 5432))];
        for args in [
            &["ssh", "-o", "LocalForward=8080 db:5432", "bastion"][..],
            &["ssh", "-oLocalForward 8080 db:5432", "bastion"],
            &["ssh", "-o", "localforward = 8080 db:5432", "bastion"],
            &["ssh", "-o", "LocalForward 8080 db:5432", "bastion"],
        ] {
            assert_eq!(ends(&exact(args)), expected, "{args:?}");
        }
        let remote = exact(&["ssh", "-o", "RemoteForward 9000 localhost:3000", "h"]);
        assert_eq!(remote[0].direction, Direction::Remote);
        let dynamic = exact(&["ssh", "-o", "DynamicForward=1080", "h"]);
        assert_eq!(dynamic[0].target, Leads::Socks);
        // ssh's own quoting is not reproduced: nothing rather than a guess.
        assert!(exact(&["ssh", "-o", "LocalForward=\"8080 db:5432\"", "h"]).is_empty());
        assert!(
            exact(&["ssh", "-o", "LocalForward=8080", "h"]).is_empty(),
            "one argument short"
        );
    }

    #[test]
    fn ssh_several_forwards_of_every_kind_in_order() {
        let all = line(
            "ssh -N -L 15432:db:5432 -L [::1]:8080:[fd00::5]:80 -R 9000:localhost:3000 -R 9001 -D 1080 -J jump.example ana@bastion",
        );
        let kinds: Vec<Direction> = all.iter().map(|f| f.direction).collect();
        assert_eq!(
            kinds,
            [
                Direction::Local,
                Direction::Local,
                Direction::Remote,
                Direction::Remote,
                Direction::Dynamic
            ]
        );
        assert_eq!(
            ends(&all[1..2]),
            [(at(vec![Bind::Addr(ip("::1"))], 8080), host("fd00::5", 80))]
        );
        assert_eq!(all[1].target.to_string(), "[fd00::5]:80");
        assert_eq!(all[2].target, host("localhost", 3000));
        assert_eq!(all[3].target, Leads::Socks, "-R with only a port");
        assert_eq!(all[4].listen, at(vec![Bind::Loopback], 1080));
        for f in &all {
            assert_eq!(f.destination.as_ref().unwrap(), "ana@bastion");
            assert_eq!(f.jump.as_ref().unwrap(), "jump.example");
        }
    }

    #[test]
    fn ssh_bind_addresses_and_gateway_ports() {
        let bind_of = |spec: &str| match &line(&format!("ssh -L {spec} h"))[0].listen {
            Listen::Port { binds, .. } => binds.clone(),
            Listen::Path(_) => panic!("a path"),
        };
        assert_eq!(bind_of("*:8080:db:1"), [Bind::Wildcard]);
        assert_eq!(bind_of(":8080:db:1"), [Bind::Wildcard]);
        assert_eq!(bind_of("localhost:8080:db:1"), [Bind::Loopback]);
        assert_eq!(bind_of("0.0.0.0:8080:db:1"), [Bind::Addr(ip("0.0.0.0"))]);
        assert_eq!(bind_of("box.lan:8080:db:1"), [Bind::Name("box.lan".into())]);
        let gateway = line("ssh -g -L 8080:db:1 h");
        assert_eq!(gateway[0].listen, at(vec![Bind::Wildcard], 8080));
        let configured = exact(&["ssh", "-o", "GatewayPorts=yes", "-L", "8080:db:1", "h"]);
        assert_eq!(configured[0].listen, at(vec![Bind::Wildcard], 8080));
        // -g wins over the option, whatever the order.
        let both = exact(&["ssh", "-o", "GatewayPorts=no", "-g", "-L", "8080:db:1", "h"]);
        assert_eq!(both[0].listen, at(vec![Bind::Wildcard], 8080));
    }

    #[test]
    fn ssh_unix_sockets_on_either_side() {
        assert_eq!(
            ends(&line("ssh -L 2375:/var/run/docker.sock h")),
            [(
                at(vec![Bind::Loopback], 2375),
                Leads::UnixSocket("/var/run/docker.sock".into())
            )]
        );
        assert_eq!(
            ends(&line("ssh -L /tmp/pg.sock:db:5432 h")),
            [(Listen::Path("/tmp/pg.sock".into()), host("db", 5432))]
        );
        assert_eq!(
            ends(&line("ssh -L 127.0.0.1:2375:/run/d.sock h"))[0].0,
            at(vec![Bind::Addr(ip("127.0.0.1"))], 2375)
        );
        let long = format!("ssh -L 2375:/{} h", "p".repeat(200));
        assert!(
            line(&long).is_empty(),
            "ssh refuses a path sun_path cannot hold"
        );
    }

    /// OpenSSH before 6.7 took `/` between the fields; later ones exit on it, so a live process
    /// with it is an old ssh, and means this.
    #[test]
    fn ssh_slash_separated_fields() {
        assert_eq!(
            ends(&line("ssh -L 8080/db/5432 h")),
            [(at(vec![Bind::Loopback], 8080), host("db", 5432))]
        );
        assert_eq!(
            ends(&line("ssh -L 8080/fd00::5/5432 h")),
            [(at(vec![Bind::Loopback], 8080), host("fd00::5", 5432))]
        );
    }

    #[test]
    fn ssh_escapes_brackets_and_named_ports() {
        let escaped = exact(&["ssh", "-L", "8080:d\\:b:1", "h"]);
        assert_eq!(escaped[0].target, host("d:b", 1));
        let service = line("ssh -L 8080:db:postgresql h");
        assert_eq!(
            service[0].target,
            Leads::Host {
                host: "db".into(),
                port: PortRef::Name("postgresql".into())
            }
        );
        // A listening port given by name cannot be matched to a socket: left out.
        assert!(line("ssh -L http:db:80 h").is_empty());
        // An environment variable ssh expands: not known here.
        assert!(line("ssh -L ${PORT}:db:80 -L 1:a:2 h").len() == 1);
    }

    #[test]
    fn ssh_options_and_the_command_after_the_destination() {
        assert_eq!(line("ssh bastion -L 1:a:2 -N").len(), 1);
        assert!(
            line("ssh bastion uptime -L 3:b:4").is_empty(),
            "the remote command's arguments"
        );
        assert_eq!(ends(&line("ssh -L 1:a:2 -- bastion -L 3:b:4")).len(), 1);
        assert_eq!(line("ssh -- bastion")[..], []);
        assert!(
            line("ssh -- -L 1:a:2 h").is_empty(),
            "a destination starting with -"
        );
    }

    #[test]
    fn ssh_command_lines_that_hold_no_forward() {
        for text in [
            "ssh -o ClearAllForwardings=yes -L 1:a:2 h",
            "ssh -W db:22 -L 1:a:2 h",
            "ssh -O forward -L 1:a:2 h",
            "ssh -G -L 1:a:2 h",
            "ssh -V",
            "ssh -L 1:a:2",
            "ssh h -L",
            "ssh -L",
            "ssh -Z -L 1:a:2 h",
            "ssh -J a -J b -L 1:a:2 h",
            "ssh -L 99999:h:1 h",
            "ssh -L 1:h:99999 h",
            "ssh -L 0:h:1 h",
            "ssh -L 1:h:0 h",
            "ssh -L 8080:db h",
            "ssh -L [::1:8080:db:1 h",
            "ssh -L 1:2:3:4:5 h",
            "ssh --port 80 hello",
            "ssh",
        ] {
            assert_eq!(line(text), [], "{text}");
        }
        // Unless told otherwise, -W clears the others; told, it does not.
        assert_eq!(
            exact(&[
                "ssh",
                "-W",
                "db:22",
                "-o",
                "ClearAllForwardings=no",
                "-L",
                "1:a:2",
                "h"
            ])
            .len(),
            1
        );
        // A jump given twice, -J after ProxyJump: ssh exits. ProxyJump after -J is ignored.
        assert!(exact(&["ssh", "-o", "ProxyJump=b", "-J", "a", "-L", "1:a:2", "h"]).is_empty());
        let first = exact(&["ssh", "-J", "a", "-o", "ProxyJump=b", "-L", "1:a:2", "h"]);
        assert_eq!(first[0].jump.as_ref().unwrap(), "a");
        assert_eq!(line("ssh -J none -L 1:a:2 h")[0].jump, None);
    }

    #[test]
    fn ssh_hostile_names_yield_nothing_claimed() {
        // A host with an escape sequence: ssh takes it, nothing resolves it; not claimed.
        let escape = exact(&["ssh", "-L", "1:\u{1b}]0;x\u{7}:2", "-L", "3:db:4", "dest"]);
        assert_eq!(
            ends(&escape),
            [(at(vec![Bind::Loopback], 3), host("db", 4))]
        );
        for dest in [
            "b\u{202e}astion",
            "h\u{1b}[2J",
            "a b",
            "h;rm",
            "h\u{fffd}",
            "$(x)",
        ] {
            assert!(exact(&["ssh", "-L", "1:a:2", dest]).is_empty(), "{dest:?}");
        }
        assert!(
            exact(&["ssh", "-L", "1:db\u{fffd}:2", "h"]).is_empty(),
            "bytes that were not UTF-8"
        );
        assert!(
            exact(&["ssh", "-L", "1:d\u{200b}b:2", "h"]).is_empty(),
            "zero-width"
        );
        let huge = "x".repeat(100_000);
        assert!(exact(&["ssh", "-L", &format!("1:{huge}:2"), "h"]).is_empty());
        assert!(exact(&["ssh", "-L", "1:a:2", &huge]).is_empty());
        assert!(exact(&["ssh", &huge, "-L", "1:a:2", "h"]).is_empty());
        // A unix socket path is shown inert, whatever it holds.
        let path = exact(&["ssh", "-L", "1:/tmp/\u{1b}[31m", "h"]);
        assert_eq!(path[0].target.to_string(), "/tmp/\\e[31m");
    }

    #[test]
    fn kubectl_port_forward_in_every_spelling() {
        let one = line("kubectl port-forward svc/postgres 5432");
        assert_eq!(one.len(), 1);
        assert_eq!(one[0].via, Forwarder::Kubectl);
        assert_eq!(one[0].listen, at(vec![Bind::Loopback], 5432));
        assert_eq!(
            one[0].target,
            Leads::Kubernetes {
                resource: "svc/postgres".into(),
                port: PortRef::Number(5432)
            }
        );
        assert_eq!(one[0].target.to_string(), "svc/postgres:5432");
        assert_eq!(one[0].namespace, None);
        for text in [
            "kubectl -n db port-forward svc/postgres 15432:5432",
            "kubectl port-forward -n db svc/postgres 15432:5432",
            "kubectl port-forward --namespace db svc/postgres 15432:5432",
            "kubectl port-forward --namespace=db svc/postgres 15432:5432",
            "kubectl port-forward -ndb svc/postgres 15432:5432",
            "kubectl --context prod --kubeconfig /k port-forward svc/postgres 15432:5432 --pod-running-timeout 1m",
            "/usr/local/bin/kubectl port-forward svc/postgres 15432:5432 -n db -v=4",
        ] {
            let forwards = line(text);
            assert_eq!(forwards.len(), 1, "{text}");
            assert_eq!(
                forwards[0].listen,
                at(vec![Bind::Loopback], 15432),
                "{text}"
            );
            if text.contains("db") {
                assert_eq!(forwards[0].namespace.as_ref().unwrap(), "db", "{text}");
            }
        }
        let pod = line("kubectl port-forward web-0 8080:80 9090:9090");
        assert_eq!(pod.len(), 2);
        assert_eq!(pod[0].target.to_string(), "pod/web-0:80");
        let addressed = line("kubectl port-forward --address localhost,10.0.0.5 pod/x 8888:5000");
        assert_eq!(
            addressed[0].listen,
            at(vec![Bind::Loopback, Bind::Addr(ip("10.0.0.5"))], 8888)
        );
    }

    #[test]
    fn kubectl_random_and_named_ports() {
        let random = line("kubectl port-forward pod/mypod :5000");
        assert_eq!(
            random[0].listen,
            Listen::Port {
                binds: vec![Bind::Loopback],
                port: None
            }
        );
        assert_eq!(
            line("kubectl port-forward pod/mypod 0:5000")[0].listen,
            random[0].listen
        );
        let named = line("kubectl port-forward service/web 8443:https");
        assert_eq!(named[0].listen, at(vec![Bind::Loopback], 8443));
        assert_eq!(named[0].target.to_string(), "service/web:https");
        let alone = line("kubectl port-forward service/web https");
        assert!(matches!(alone[0].listen, Listen::Port { port: None, .. }));
        // The random port is found by being the only one kubectl picks.
        let lo = ip("127.0.0.1");
        assert!(leading(&random, Proto::Tcp, lo, 40_123).is_some());
        let mixed = line("kubectl port-forward pod/p 8080:80 :5000");
        assert_eq!(
            leading(&mixed, Proto::Tcp, lo, 8080)
                .unwrap()
                .target
                .to_string(),
            "pod/p:80"
        );
        assert_eq!(
            leading(&mixed, Proto::Tcp, lo, 40_123)
                .unwrap()
                .target
                .to_string(),
            "pod/p:5000"
        );
        let two = line("kubectl port-forward pod/p :80 :5000");
        assert!(
            leading(&two, Proto::Tcp, lo, 40_123).is_none(),
            "two ports picked: which?"
        );
    }

    #[test]
    fn kubectl_command_lines_that_hold_no_forward() {
        for text in [
            "kubectl port-forward",
            "kubectl port-forward svc/x",
            "kubectl get pods",
            "kubectl port-forward svc/x 99999",
            "kubectl port-forward svc/x 80:0",
            "kubectl port-forward svc/x 1:2:3",
            "kubectl port-forward svc/x abc:80",
            "kubectl port-forward --bogus svc/x 80",
            "kubectl port-forward -h svc/x 80",
            "kubectl port-forward -n Bad_NS svc/x 80",
            "kubectl port-forward svc/x/y 80",
            "kubectl port-forward svc/x 80 --address db.lan",
            "kubectl port-forward svc/x 80 -n",
        ] {
            assert_eq!(line(text), [], "{text}");
        }
        assert!(exact(&["kubectl", "port-forward", "svc/\u{1b}[2J", "80"]).is_empty());
    }

    #[test]
    fn socat_either_address_may_listen() {
        let expected = [(
            at(vec![Bind::Addr(ip("127.0.0.1"))], 8080),
            host("127.0.0.1", 80),
        )];
        for text in [
            "socat TCP-LISTEN:8080,bind=127.0.0.1,fork,reuseaddr TCP:127.0.0.1:80",
            "socat TCP:127.0.0.1:80 TCP-LISTEN:8080,bind=127.0.0.1",
            "socat -d -d -v -lf /tmp/log -b8192 tcp-l:8080,fork,bind=127.0.0.1 tcp4:127.0.0.1:80",
            "/usr/bin/socat -T 5 TCP4-LISTEN:8080,bind=127.0.0.1 TCP-CONNECT:127.0.0.1:80",
        ] {
            assert_eq!(ends(&line(text)), expected, "{text}");
        }
        let socat = &line("socat TCP-LISTEN:8080 TCP:db:5432")[0];
        assert_eq!((socat.via, socat.proto), (Forwarder::Socat, Proto::Tcp));
        assert_eq!(socat.listen, at(vec![Bind::Wildcard], 8080));
        assert_eq!(
            line("socat TCP4-LISTEN:8080 TCP:db:1")[0].listen,
            at(vec![Bind::Addr(ip("0.0.0.0"))], 8080)
        );
        assert_eq!(
            line("socat TCP6-LISTEN:8080,bind=[::1] TCP6:[fd00::5]:5432")[..1]
                .iter()
                .map(|f| (f.listen.clone(), f.target.to_string()))
                .collect::<Vec<_>>(),
            [(
                at(vec![Bind::Addr(ip("::1"))], 8080),
                "[fd00::5]:5432".to_string()
            )]
        );
        let udp = &line("socat UDP4-RECVFROM:5353,fork UDP:10.0.0.1:53")[0];
        assert_eq!(udp.proto, Proto::Udp);
    }

    #[test]
    fn socat_targets_that_are_not_ports_say_so() {
        let target = |text: &str| line(text).first().map(|f| f.target.clone());
        assert_eq!(
            target("socat TCP-LISTEN:5433 UNIX-CONNECT:/run/postgresql/.s.PGSQL.5432"),
            Some(Leads::UnixSocket("/run/postgresql/.s.PGSQL.5432".into()))
        );
        assert_eq!(
            target("socat TCP-LISTEN:7000,fork EXEC:/bin/cat"),
            Some(Leads::Program("/bin/cat".into()))
        );
        assert_eq!(
            target("socat TCP-LISTEN:7000,fork SYSTEM:date,pty"),
            Some(Leads::Program("date".into()))
        );
        assert_eq!(target("socat TCP-LISTEN:7000 -"), Some(Leads::Stdio));
        assert_eq!(target("socat STDIO TCP-LISTEN:7000"), Some(Leads::Stdio));
    }

    #[test]
    fn socat_command_lines_that_hold_no_forward() {
        for args in [
            &["socat", "TCP-LISTEN:1", "EXEC:\"bash -li\",pty"][..],
            &["socat", "TCP-LISTEN:1", "'TCP:a:1'"],
            &["socat", "TCP-LISTEN:1", "TCP:a:1!!TCP:b:2"],
            &["socat", "TCP-LISTEN:1", "TCP-LISTEN:2"],
            &["socat", "TCP:a:1", "TCP:b:2"],
            &["socat", "TCP-LISTEN:1"],
            &["socat", "TCP-LISTEN:1", "TCP:a:1", "TCP:b:2"],
            &["socat", "-Z", "TCP-LISTEN:1", "TCP:a:1"],
            &["socat", "-h", "TCP-LISTEN:1", "TCP:a:1"],
            &["socat", "-b"],
            &["socat", "TCP-LISTEN:99999", "TCP:a:1"],
            &["socat", "TCP-LISTEN:1", "TCP:a:99999"],
            &["socat", "TCP-LISTEN:1", "TCP:\u{1b}]0;x\u{7}:1"],
            &["socat", "TCP-LISTEN:1", "GOPEN:/etc/passwd"],
            &["socat", "TCP-LISTEN:1,bind=[::1", "TCP:a:1"],
        ] {
            assert_eq!(exact(args), [], "{args:?}");
        }
    }

    #[test]
    fn docker_proxy_names_the_container_end() {
        let proxy = line(
            "/usr/bin/docker-proxy -proto tcp -host-ip 0.0.0.0 -host-port 8080 -container-ip 172.17.0.2 -container-port 80",
        );
        assert_eq!(
            ends(&proxy),
            [(
                at(vec![Bind::Addr(ip("0.0.0.0"))], 8080),
                host("172.17.0.2", 80)
            )]
        );
        assert_eq!(proxy[0].via, Forwarder::DockerProxy);
        let go_style = line(
            "docker-proxy --proto=udp -host-ip=::1 -host-port=53 -container-ip=fd00::2 -container-port 53 -use-listen-fd",
        );
        assert_eq!(go_style[0].proto, Proto::Udp);
        assert_eq!(go_style[0].target.to_string(), "[fd00::2]:53");
        assert_eq!(
            line("node -container-ip 1.2.3.4 -container-port 1 -host-port 2"),
            [],
            "only docker-proxy itself"
        );
        assert_eq!(
            line("docker-proxy -host-port 8080 -container-ip web -container-port 80"),
            []
        );
        assert_eq!(
            line("docker-proxy -host-port 8080 -container-ip 1.2.3.4"),
            []
        );
    }

    #[test]
    fn the_listening_end_is_matched_by_proto_address_and_port() {
        let forwards =
            line("ssh -L 127.0.0.1:8080:a:1 -L [::1]:8080:b:1 -L 9090:c:1 -R 7070:d:1 h");
        let to = |addr: &str, port: u16| {
            leading(&forwards, Proto::Tcp, ip(addr), port).map(|f| f.target.to_string())
        };
        assert_eq!(to("127.0.0.1", 8080).as_deref(), Some("a:1"));
        assert_eq!(to("::1", 8080).as_deref(), Some("b:1"));
        assert_eq!(to("::1", 9090).as_deref(), Some("c:1"));
        assert_eq!(to("0.0.0.0", 9090), None, "localhost binds loopback only");
        assert_eq!(to("127.0.0.1", 7070), None, "-R listens on the server");
        assert!(leading(&forwards, Proto::Udp, ip("127.0.0.1"), 9090).is_none());
        let binds = line("ssh -L 0.0.0.0:1:a:1 -L *:2:b:1 -L box.lan:3:c:1 -L 127.0.0.2:4:d:1 h");
        let fits = |addr: &str, port: u16| leading(&binds, Proto::Tcp, ip(addr), port).is_some();
        assert!(
            fits("0.0.0.0", 1) && !fits("::", 1),
            "0.0.0.0 is IPv4's wildcard only"
        );
        assert!(fits("0.0.0.0", 2) && fits("::", 2) && !fits("127.0.0.1", 2));
        assert!(
            fits("10.0.0.3", 3) && fits("127.0.0.1", 3),
            "a name may be any address"
        );
        assert!(fits("::ffff:127.0.0.2", 4) && !fits("127.0.0.1", 4));
        // Two forwards on one port that lead apart: which one holds the socket is not known.
        let clash = line("ssh -L 8080:a:1 -L 8080:b:1 h");
        assert!(leading(&clash, Proto::Tcp, ip("127.0.0.1"), 8080).is_none());
        let same = line("ssh -L 8080:a:1 -L 8080:a:1 h");
        assert!(leading(&same, Proto::Tcp, ip("127.0.0.1"), 8080).is_some());
    }

    #[test]
    fn attach_marks_the_listening_ends_of_the_first_owner_only() {
        let ssh = owner(
            4120,
            "ssh",
            "ana",
            "ssh -N -L 15432:db.internal:5432 bastion",
        );
        let node = owner(4812, "node", "ana", "node server.js -L 3000:x:1");
        let mut sockets = vec![
            listener("127.0.0.1", 15432, vec![ssh.clone()]),
            listener("::1", 15432, vec![ssh.clone()]),
            listener("127.0.0.1", 15433, vec![ssh.clone()]),
            udp("127.0.0.1", 15432, vec![ssh.clone()]),
            connection(
                ("127.0.0.1", 15432),
                ("127.0.0.1", 50000),
                SocketState::Established,
                vec![ssh.clone()],
            ),
            listener("127.0.0.1", 3000, vec![node.clone()]),
            listener("127.0.0.1", 15432, vec![node, ssh]),
        ];
        sockets[2].forward = Some(Arc::new(line("ssh -L 1:a:2 h").remove(0)));
        attach(&mut sockets);
        let targets: Vec<Option<String>> = sockets
            .iter()
            .map(|s| s.forward.as_ref().map(|f| f.target.to_string()))
            .collect();
        let db = Some("db.internal:5432".to_string());
        assert_eq!(targets, [db.clone(), db, None, None, None, None, None]);
        assert_eq!(sockets[0].process_label(), "ssh -> db.internal:5432");
        assert!(
            Arc::ptr_eq(
                sockets[0].forward.as_ref().unwrap(),
                sockets[1].forward.as_ref().unwrap()
            ),
            "one reading per process"
        );
    }

    /// A process that renamed its argv[0] (or only its name) to pass for a forwarder is not
    /// read: both must name the program.
    #[test]
    fn a_process_passing_for_a_forwarder_is_not_read() {
        let impostor = crate::model::Owner {
            argv: ["ssh", "/tmp/hold.py", "-L", "7002:db:5432"]
                .map(OsText::from)
                .into(),
            ..owner(9297, "python3", "ana", "ssh")
        };
        let renamed = owner(9298, "ssh", "ana", "python3 hold.py -L 7003:db:5432 h");
        let real = owner(9299, "ssh", "ana", "/usr/bin/ssh -L 7004:db:5432 h");
        let mut sockets = vec![
            listener("127.0.0.1", 7002, vec![impostor]),
            listener("127.0.0.1", 7003, vec![renamed]),
            listener("127.0.0.1", 7004, vec![real]),
        ];
        attach(&mut sockets);
        let found: Vec<bool> = sockets.iter().map(|s| s.forward.is_some()).collect();
        assert_eq!(found, [false, false, true]);
    }

    /// Thousands of forwards in one command line: one reading, looked up by port, each socket
    /// its own forward.
    #[test]
    fn ten_thousand_forwards_are_read_once_and_found_by_port() {
        let mut words = vec!["ssh".to_string(), "-N".to_string()];
        for i in 0..10_000u16 {
            words.push("-L".to_string());
            words.push(format!("{}:db{i}:5432", 20_000 + i));
        }
        words.push("bastion".to_string());
        let argv: Vec<OsText> = words.iter().map(|a| OsText::from(a.as_str())).collect();
        assert_eq!(parse(&argv).len(), 10_000);
        let ssh = crate::model::Owner {
            argv: argv.into(),
            ..owner(4120, "ssh", "ana", "ssh")
        };
        // Every owner carries the whole command line: a sample of the ports keeps the test quick.
        let ports: Vec<u16> = (0..10_000u16).step_by(97).collect();
        let mut sockets: Vec<Socket> = ports
            .iter()
            .map(|i| listener("127.0.0.1", 20_000 + i, vec![ssh.clone()]))
            .collect();
        attach(&mut sockets);
        for (i, socket) in ports.iter().zip(&sockets) {
            assert_eq!(
                socket.forward.as_ref().map(|f| f.target.to_string()),
                Some(format!("db{i}:5432"))
            );
        }
    }

    /// One port on many addresses, each its own forward: found by address too.
    #[test]
    fn one_port_on_many_addresses_finds_each_forward() {
        let specs: Vec<String> = (1..=300)
            .map(|i| format!("-L 127.0.{}.{}:8080:db{i}:1", i / 200, i % 200 + 1))
            .collect();
        let ssh = owner(4120, "ssh", "ana", &format!("ssh {} h", specs.join(" ")));
        let mut sockets: Vec<Socket> = (1..=300)
            .map(|i| {
                let addr = format!("127.0.{}.{}", i / 200, i % 200 + 1);
                listener(&addr, 8080, vec![ssh.clone()])
            })
            .collect();
        attach(&mut sockets);
        for (i, socket) in (1..=300).zip(&sockets) {
            assert_eq!(
                socket.forward.as_ref().map(|f| f.target.to_string()),
                Some(format!("db{i}:1"))
            );
        }
    }

    fn piece() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("-L".to_string()),
            Just("-R".to_string()),
            Just("-D".to_string()),
            Just("-o".to_string()),
            Just("-NfL".to_string()),
            Just("-J".to_string()),
            Just("--".to_string()),
            Just("-".to_string()),
            Just("LocalForward=1 a:2".to_string()),
            Just("port-forward".to_string()),
            Just("-n".to_string()),
            Just("--address".to_string()),
            Just("TCP-LISTEN:8080,bind=[::1]".to_string()),
            Just("TCP:[fd00::1]:5432".to_string()),
            Just("EXEC:x".to_string()),
            Just("-host-port".to_string()),
            Just("-container-ip".to_string()),
            Just("[::1]:8080:[fd00::5]:5432".to_string()),
            Just("\u{1b}]0;x\u{7}".to_string()),
            Just("\u{202e}".to_string()),
            Just("\u{fffd}".to_string()),
            Just("${HOME}".to_string()),
            "[0-9]{1,6}",
            "[a-z:/\\[\\]\\\\.*-]{0,24}",
            any::<String>(),
        ]
    }

    fn an_argv() -> impl Strategy<Value = Vec<String>> {
        (
            prop::sample::select(vec![
                "ssh",
                "/usr/bin/ssh",
                "kubectl",
                "socat",
                "docker-proxy",
            ]),
            proptest::collection::vec(proptest::collection::vec(piece(), 1..4), 0..12),
        )
            .prop_map(|(program, words)| {
                std::iter::once(program.to_string())
                    .chain(words.into_iter().map(|parts| parts.concat()))
                    .collect()
            })
    }

    proptest! {
        #![proptest_config(fuzz_config(512))]

        /// Any command line: no panic, and every name it yields prints inert.
        #[test]
        fn any_command_line_is_read_without_panic_and_prints_inert(args in an_argv()) {
            let argv: Vec<OsText> = args.iter().map(|a| OsText::from(a.as_str())).collect();
            for forward in parse(&argv) {
                for text in [
                    forward.target.to_string(),
                    forward.listen.to_string(),
                    forward.destination.as_ref().map(ToString::to_string).unwrap_or_default(),
                    forward.jump.as_ref().map(ToString::to_string).unwrap_or_default(),
                ] {
                    // Already inert: the pass for text built from inert parts changes nothing.
                    prop_assert_eq!(inert_residue(&text), text.as_str());
                    prop_assert!(!text.chars().any(is_unsafe));
                }
            }
            let mut sockets = vec![
                listener("127.0.0.1", 8080, vec![crate::model::Owner { argv: argv.clone().into(), ..owner(1, "ssh", "a", "ssh") }]),
            ];
            attach(&mut sockets);
        }
    }
}
