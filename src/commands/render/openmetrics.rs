//! `list --format openmetrics`: the OpenMetrics text exposition, for Prometheus (node_exporter's
//! textfile collector, or any scraper of a file).
//!
//! Pure: sockets in, a `String` out. Every label has few values over time, so the series stay
//! put while the same servers run: protocol, address, port, scope, state, process name and
//! user. Neither the pid (a new series at every restart) nor the command line (unbounded text)
//! is a label; `loopwatch who PORT` names them. Label values are escaped as the format says
//! (backslash, double quote, newline) and every other control or format character is written
//! as the visible escape loopwatch prints everywhere, so `cat` on the file is inert too.

use std::collections::HashMap;
use std::fmt::Write as _;

use crate::model::{Scope, Socket, inert};

/// The scopes in the order their counts are written; each is written, zero included, so the
/// series exist before the first exposed listener does.
const SCOPES: [Scope; 3] = [Scope::Loopback, Scope::AllInterfaces, Scope::ThisHost];

/// The exposition of `sockets`: one `loopwatch_socket_info` series per listener (or bound UDP
/// socket), counts of listeners and of connection ends by scope, then `# EOF`.
pub(crate) fn exposition(sockets: &[Socket]) -> String {
    // Sockets with the same labels (SO_REUSEPORT listeners of one server) are one series,
    // whose value counts them: a series appears once, in the order the sockets come.
    let mut info: Vec<(String, usize)> = Vec::new();
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut listeners = [0usize; SCOPES.len()];
    let mut connections = [0usize; SCOPES.len()];
    for socket in sockets {
        let scope = SCOPES.iter().position(|s| *s == socket.scope).unwrap_or(0);
        if socket.state.is_listening() {
            listeners[scope] += 1;
            let labels = labels(socket);
            if let Some(&i) = seen.get(&labels) {
                info[i].1 += 1;
            } else {
                seen.insert(labels.clone(), info.len());
                info.push((labels, 1));
            }
        } else {
            connections[scope] += 1;
        }
    }
    let mut out = String::new();
    out.push_str(
        "# HELP loopwatch_socket_info A listening TCP socket or bound UDP socket, and the process that holds it (the value counts sockets sharing these labels).\n",
    );
    out.push_str("# TYPE loopwatch_socket_info gauge\n");
    for (labels, count) in &info {
        // Writing to a String cannot fail.
        let _ = writeln!(out, "loopwatch_socket_info{{{labels}}} {count}");
    }
    counts(
        &mut out,
        "loopwatch_listeners",
        "Listening TCP sockets and bound UDP sockets, by who can reach them.",
        &listeners,
    );
    counts(
        &mut out,
        "loopwatch_connections",
        "TCP connection ends listed (with --connections), by scope of the local address.",
        &connections,
    );
    out.push_str("# EOF\n");
    out
}

fn counts(out: &mut String, name: &str, help: &str, values: &[usize; SCOPES.len()]) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} gauge");
    for (scope, value) in SCOPES.iter().zip(values) {
        let _ = writeln!(out, "{name}{{scope=\"{}\"}} {value}", scope_value(*scope));
    }
}

/// `all interfaces` as a label value: `all_interfaces`.
fn scope_value(scope: Scope) -> String {
    scope.as_str().replace(' ', "_")
}

/// The label set of one socket, in a fixed order.
fn labels(socket: &Socket) -> String {
    let owner = socket.primary_owner();
    let process = owner.map_or_else(|| socket.process_label(), |o| o.name.raw().to_string());
    let user = owner
        .and_then(|o| o.user.as_ref())
        .or(socket.user.as_ref())
        .map(|u| u.raw().to_string())
        .or_else(|| socket.uid.map(|u| u.to_string()))
        .unwrap_or_default();
    let pairs = [
        ("proto", socket.proto.as_str().to_string()),
        ("address", socket.local_addr.to_string()),
        ("port", socket.local_port.to_string()),
        ("scope", scope_value(socket.scope)),
        ("state", socket.state.as_str().to_lowercase()),
        ("process", process),
        ("user", user),
    ];
    let mut out = String::new();
    for (i, (name, value)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let _ = write!(out, "{name}=\"{}\"", escape(value));
    }
    out
}

/// A label value as the format wants it: the text made inert first, as every text output
/// shows it (controls, newlines and format characters as visible escapes, a backslash that
/// spells an escape doubled), then the format's own escapes for `\` and `"`. Two processes
/// whose names differ never share a series because their names print alike.
fn escape(value: &str) -> String {
    inert(value).replace('\\', "\\\\").replace('"', "\\\"")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::fixtures::{hostile_owner, listener, owner, sample_snapshot};
    use crate::model::is_unsafe;

    #[test]
    fn exposition_of_the_sample_snapshot() {
        insta::assert_snapshot!(exposition(&sample_snapshot().sockets));
    }

    #[test]
    fn label_values_are_escaped_and_inert() {
        assert_eq!(escape(r#"a"b\c"#), r#"a\"b\\c"#);
        assert_eq!(escape("a\nb"), "a\\\\nb");
        // An ESC and the two characters `\e` stay apart.
        assert_ne!(escape("\u{1b}[1m"), escape("\\e[1m"));
        assert_eq!(
            escape("ev\u{1b}]0;x\u{7}il\u{202e}"),
            "ev\\\\e]0;x\\\\x07il\\\\u{202e}"
        );
        let sockets = vec![listener("127.0.0.1", 4000, vec![hostile_owner(66)])];
        let text = exposition(&sockets);
        assert!(!text.chars().any(|c| c != '\n' && is_unsafe(c)), "{text}");
        assert!(text.contains(r#"process="ev\\e]0;pwned\\x07il""#), "{text}");
        // The command line is no label.
        assert!(!text.contains("SIGTERM"), "{text}");
        assert!(text.ends_with("# EOF\n"));
    }

    #[test]
    fn sockets_with_the_same_labels_are_one_series() {
        let pg = || owner(912, "postgres", "postgres", "postgres -D /x");
        let sockets = vec![
            listener("127.0.0.1", 5432, vec![pg()]),
            listener("127.0.0.1", 5432, vec![pg()]),
        ];
        let text = exposition(&sockets);
        assert_eq!(text.matches("loopwatch_socket_info{").count(), 1, "{text}");
        assert!(text.contains(r#"user="postgres"} 2"#), "{text}");
        assert!(text.contains("loopwatch_listeners{scope=\"loopback\"} 2"));
        assert!(text.contains("loopwatch_listeners{scope=\"all_interfaces\"} 0"));
    }
}
