//! Why a server cannot bind a port: the binds loopwatch tried, and what `localhost` resolves to
//! on this system (the client side of "connection refused").

use std::net::IpAddr;

use super::Proto;

/// What one real `bind()` came to.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum BindOutcome {
    /// It bound (and was closed at once).
    Bound,
    /// `EADDRINUSE`: a socket on this port covers the address.
    InUse,
    /// `EACCES`: the port needs privilege this process does not have.
    Denied,
    /// `EADDRNOTAVAIL`: the address is not configured on this machine (e.g. no `::1`).
    Unavailable,
    /// `EAFNOSUPPORT`: this address family is off here (e.g. IPv6 disabled).
    NoFamily,
    /// Any other error, as the OS worded it.
    Other(String),
}

impl BindOutcome {
    /// Stable machine-readable name (JSON).
    pub fn as_str(&self) -> &'static str {
        match self {
            BindOutcome::Bound => "ok",
            BindOutcome::InUse => "in_use",
            BindOutcome::Denied => "permission_denied",
            BindOutcome::Unavailable => "address_unavailable",
            BindOutcome::NoFamily => "unsupported",
            BindOutcome::Other(_) => "error",
        }
    }

    /// A few words for a summary line.
    pub fn short(&self) -> &str {
        match self {
            BindOutcome::Bound => "free",
            BindOutcome::InUse => "in use",
            BindOutcome::Denied => "needs privilege",
            BindOutcome::Unavailable => "address not on this machine",
            BindOutcome::NoFamily => "family not available",
            BindOutcome::Other(error) => error,
        }
    }

    pub fn is_bound(&self) -> bool {
        *self == BindOutcome::Bound
    }
}

/// One bind a server could make: a protocol, an address, with or without `SO_REUSEADDR`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct BindAttempt {
    pub proto: Proto,
    pub addr: IpAddr,
    pub reuse_addr: bool,
    pub outcome: BindOutcome,
}

/// The binds tried on one port, or why none were.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum BindAttempts {
    /// This platform has no way to make them (only Unix does).
    #[default]
    NotTried,
    Tried(Vec<BindAttempt>),
}

/// What `localhost` means to clients on this system: the resolver's answer, in its order, and
/// what `/etc/hosts` says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Localhost {
    /// The first address `getaddrinfo("localhost")` returned: what a client that tries only
    /// one address connects to.
    pub first: IpAddr,
    /// Whether the answer held an IPv4 address, and an IPv6 one.
    pub v4: bool,
    pub v6: bool,
    /// Which families `/etc/hosts` maps `localhost` to; `None` when it could not be read.
    pub hosts_file: Option<(bool, bool)>,
}

impl Localhost {
    /// From the resolver's answer, in order; `None` when it returned nothing.
    pub fn from_answer(addrs: &[IpAddr], hosts_file: Option<(bool, bool)>) -> Option<Localhost> {
        let first = super::normalize_addr(*addrs.first()?);
        let v4 = addrs.iter().any(|a| super::normalize_addr(*a).is_ipv4());
        let v6 = addrs.iter().any(|a| super::normalize_addr(*a).is_ipv6());
        Some(Localhost {
            first,
            v4,
            v6,
            hosts_file,
        })
    }

    /// Which families `/etc/hosts` (its text) maps the name `localhost` to: (IPv4, IPv6).
    pub fn hosts_families(hosts: &str) -> (bool, bool) {
        let (mut v4, mut v6) = (false, false);
        for line in hosts.lines() {
            let line = line.split('#').next().unwrap_or("");
            let mut fields = line.split_whitespace();
            let Some(Ok(addr)) = fields.next().map(str::parse::<IpAddr>) else {
                continue;
            };
            if fields.any(|name| name.eq_ignore_ascii_case("localhost")) {
                match super::normalize_addr(addr) {
                    IpAddr::V4(_) => v4 = true,
                    IpAddr::V6(_) => v6 = true,
                }
            }
        }
        (v4, v6)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_file_lines_name_their_families() {
        let debian = "127.0.0.1\tlocalhost\n127.0.1.1\tbox\n\n# IPv6\n::1     localhost ip6-localhost ip6-loopback\nff02::1 ip6-allnodes\n";
        assert_eq!(Localhost::hosts_families(debian), (true, true));
        assert_eq!(
            Localhost::hosts_families("127.0.0.1 localhost\n::1 ip6-localhost\n"),
            (true, false)
        );
        assert_eq!(
            Localhost::hosts_families("#::1 localhost\n::1 LOCALHOST.\n garbage localhost\n"),
            (false, false),
            "comments, other names and unparsable addresses count for nothing"
        );
        assert_eq!(
            Localhost::hosts_families("::1 localhost # loopback\n"),
            (false, true)
        );
    }

    #[test]
    fn the_answer_order_is_kept() {
        let v6: IpAddr = "::1".parse().unwrap();
        let v4: IpAddr = "127.0.0.1".parse().unwrap();
        let both = Localhost::from_answer(&[v6, v4], None).unwrap();
        assert_eq!((both.first, both.v4, both.v6), (v6, true, true));
        let mapped: IpAddr = "::ffff:127.0.0.1".parse().unwrap();
        let only = Localhost::from_answer(&[mapped], Some((true, false))).unwrap();
        assert_eq!((only.first, only.v4, only.v6), (v4, true, false));
        assert_eq!(Localhost::from_answer(&[], None), None);
    }
}
