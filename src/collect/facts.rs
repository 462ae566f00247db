//! Reads the system settings explanations quote ([`SystemFacts`]) from `/proc/sys`, once.

use crate::model::SystemFacts;

#[cfg(target_os = "linux")]
const FILES: [&str; 3] = [
    "/proc/sys/net/ipv4/ip_local_port_range",
    "/proc/sys/net/ipv4/ip_unprivileged_port_start",
    "/proc/sys/net/ipv6/bindv6only",
];

/// Reads the settings of the running system; `None` for each one it does not expose.
pub fn read() -> SystemFacts {
    #[cfg(target_os = "linux")]
    {
        let [range, unprivileged, v6only] = FILES.map(|path| std::fs::read_to_string(path).ok());
        SystemFacts::from_proc(range.as_deref(), unprivileged.as_deref(), v6only.as_deref())
    }
    #[cfg(not(target_os = "linux"))]
    {
        SystemFacts::default()
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
}
