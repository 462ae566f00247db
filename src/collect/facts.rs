//! Reads the system settings explanations quote ([`SystemFacts`]) from `/proc/sys`, and what
//! `localhost` resolves to, once.

use std::net::{IpAddr, ToSocketAddrs};
use std::sync::mpsc;
use std::time::Duration;

use crate::model::{Localhost, SystemFacts};

#[cfg(target_os = "linux")]
const FILES: [&str; 3] = [
    "/proc/sys/net/ipv4/ip_local_port_range",
    "/proc/sys/net/ipv4/ip_unprivileged_port_start",
    "/proc/sys/net/ipv6/bindv6only",
];

/// The resolver is asked on a thread of its own and given this long: `localhost` comes from
/// the hosts file on any sane system, but a resolver configured to ask the network first
/// must not hold up the table's start.
const RESOLVE_PATIENCE: Duration = Duration::from_millis(300);

/// Reads the settings of the running system; `None` for each one it does not expose.
pub fn read() -> SystemFacts {
    #[cfg(target_os = "linux")]
    let facts = {
        let [range, unprivileged, v6only] = FILES.map(|path| std::fs::read_to_string(path).ok());
        SystemFacts::from_proc(range.as_deref(), unprivileged.as_deref(), v6only.as_deref())
    };
    #[cfg(not(target_os = "linux"))]
    let facts = SystemFacts::default();
    SystemFacts {
        localhost: localhost(),
        ..facts
    }
}

/// `localhost` as clients resolve it here: `getaddrinfo`'s answer in its order (which
/// `/etc/gai.conf` and the address-selection rules decide), and the hosts file's say.
fn localhost() -> Option<Localhost> {
    let (sender, answer) = mpsc::channel();
    std::thread::Builder::new()
        .name("resolve-localhost".into())
        .spawn(move || {
            let addrs: Vec<IpAddr> = ("localhost", 0)
                .to_socket_addrs()
                .map(|found| found.map(|a| a.ip()).collect())
                .unwrap_or_default();
            let _ = sender.send(addrs);
        })
        .ok()?;
    let addrs = answer.recv_timeout(RESOLVE_PATIENCE).ok()?;
    let hosts = hosts_file()
        .and_then(|path| std::fs::read_to_string(path).ok())
        .map(|text| Localhost::hosts_families(&text));
    Localhost::from_answer(&dedup(addrs), hosts)
}

/// Each address once, first place kept (the resolver repeats them per socket type).
fn dedup(addrs: Vec<IpAddr>) -> Vec<IpAddr> {
    let mut seen = Vec::with_capacity(addrs.len());
    for addr in addrs {
        if !seen.contains(&addr) {
            seen.push(addr);
        }
    }
    seen
}

fn hosts_file() -> Option<&'static str> {
    if cfg!(windows) {
        Some(r"C:\Windows\System32\drivers\etc\hosts")
    } else if cfg!(unix) {
        Some("/etc/hosts")
    } else {
        None
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    /// Each setting comes from its own file: a swapped path would read a range as a flag.
    #[test]
    fn each_setting_is_read_from_its_own_file() {
        let facts = read();
        let range = std::fs::read_to_string(FILES[0]).ok();
        let expected = SystemFacts::from_proc(range.as_deref(), None, None);
        assert_eq!(facts.ephemeral, expected.ephemeral);
        let start = std::fs::read_to_string(FILES[1]).ok();
        assert_eq!(
            facts.unprivileged_port_start,
            SystemFacts::from_proc(None, start.as_deref(), None).unprivileged_port_start
        );
        let v6 = std::fs::read_to_string(FILES[2]).ok();
        assert_eq!(
            facts.bindv6only,
            SystemFacts::from_proc(None, None, v6.as_deref()).bindv6only
        );
    }

    /// The first address agrees with another program's getaddrinfo (Python's), and the hosts
    /// file's families with the file.
    #[test]
    fn localhost_is_what_the_resolver_says() {
        let Some(found) = localhost() else {
            panic!("localhost did not resolve on this machine");
        };
        let hosts = std::fs::read_to_string("/etc/hosts").unwrap();
        assert_eq!(found.hosts_file, Some(Localhost::hosts_families(&hosts)));
        let python = std::process::Command::new("python3")
            .args([
                "-c",
                "import socket; print(socket.getaddrinfo('localhost', 0, type=socket.SOCK_STREAM)[0][4][0])",
            ])
            .output();
        let Ok(python) = python else {
            eprintln!("SKIPPED: no python3 to compare localhost's resolution with");
            return;
        };
        let first: IpAddr = String::from_utf8(python.stdout)
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        assert_eq!(found.first, first);
    }
}
