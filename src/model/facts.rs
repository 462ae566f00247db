//! System settings that explain a socket: the ephemeral port range, the first unprivileged
//! port, whether an IPv6 wildcard also accepts IPv4, and what `localhost` resolves to. Read
//! once; `None` where the OS does not expose them (or they cannot be read), and the
//! explanation then says less.

use super::Localhost;

/// What this system says about ports and address families.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SystemFacts {
    /// Ports the OS picks for outgoing connections and `bind(port 0)`, inclusive.
    pub ephemeral: Option<(u16, u16)>,
    /// Ports below this need privilege to bind.
    pub unprivileged_port_start: Option<u16>,
    /// `net.ipv6.bindv6only`: when `false`, a socket bound to `::` also accepts IPv4.
    pub bindv6only: Option<bool>,
    /// What clients get for `localhost` here, in the resolver's order.
    pub localhost: Option<Localhost>,
}

impl SystemFacts {
    /// Parses the contents of the three `/proc/sys` files (pure, for tests).
    pub fn from_proc(
        port_range: Option<&str>,
        unprivileged_start: Option<&str>,
        bindv6only: Option<&str>,
    ) -> SystemFacts {
        let ephemeral = port_range.and_then(|text| {
            let mut numbers = text.split_whitespace().map(str::parse::<u16>);
            match (numbers.next(), numbers.next()) {
                (Some(Ok(low)), Some(Ok(high))) if low <= high => Some((low, high)),
                _ => None,
            }
        });
        let unprivileged_port_start = unprivileged_start.and_then(|t| t.trim().parse().ok());
        let bindv6only = bindv6only.and_then(|t| match t.trim() {
            "0" => Some(false),
            "1" => Some(true),
            _ => None,
        });
        SystemFacts {
            ephemeral,
            unprivileged_port_start,
            bindv6only,
            localhost: None,
        }
    }

    /// The usual Linux defaults, for examples and tests.
    pub fn linux_defaults() -> SystemFacts {
        SystemFacts {
            ephemeral: Some((32768, 60999)),
            unprivileged_port_start: Some(1024),
            bindv6only: Some(false),
            localhost: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proc_files_parse_and_garbage_is_unknown() {
        assert_eq!(
            SystemFacts::from_proc(Some("32768\t60999\n"), Some("1024\n"), Some("0\n")),
            SystemFacts::linux_defaults()
        );
        assert_eq!(
            SystemFacts::from_proc(Some("9 1"), Some("x"), Some("2")),
            SystemFacts::default()
        );
        assert_eq!(
            SystemFacts::from_proc(None, None, None),
            SystemFacts::default()
        );
    }
}
