//! Where a process's control group places it: a systemd unit of the system or of a user's
//! manager, a container, a login session, or nowhere in particular. Parsed from the text of
//! `/proc/<pid>/cgroup` (pure, so every layout is a unit test), read by `collect`.
//!
//! A cgroup path is not proof of anything: a user may create cgroups of any name inside the
//! subtree systemd delegates to them. So a component is taken for a unit only when it is a
//! valid systemd unit name at the place systemd puts units, and every name is shown inert.

// Unit types are lower case (`.service`): systemd takes `.Service` for no unit at all.
#![allow(clippy::case_sensitive_file_extension_comparisons)]

use super::OsText;

/// Which systemd manager runs a unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Manager {
    /// The system manager (pid 1): `systemctl`.
    System,
    /// A user's manager, `user@UID.service`: `systemctl --user`.
    User(u32),
}

/// A systemd unit a process runs in.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Unit {
    /// A valid unit name (`redis-server.service`, `run-u12.scope`): nothing to escape.
    pub name: String,
    pub manager: Manager,
}

impl Unit {
    /// A scope groups processes someone else started; systemd never restarts them.
    pub fn is_scope(&self) -> bool {
        self.name.ends_with(".scope")
    }

    /// Started by `systemd-run` (or any program through the API) rather than from a unit file.
    pub fn is_transient(&self) -> bool {
        self.is_scope() || self.name.starts_with("run-")
    }
}

/// A container engine, as its cgroup names give it away.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Engine {
    Docker,
    Podman,
    /// containerd through Kubernetes' CRI (`cri-containerd-<id>.scope`).
    Containerd,
    CriO,
    /// A Kubernetes pod's container under the cgroupfs driver: the runtime is not in the path.
    Kubernetes,
}

impl Engine {
    pub fn name(self) -> &'static str {
        match self {
            Engine::Docker => "docker",
            Engine::Podman => "podman",
            Engine::Containerd => "containerd",
            Engine::CriO => "cri-o",
            Engine::Kubernetes => "kubernetes",
        }
    }
}

/// Where `/proc/<pid>/cgroup` places a process.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Placement {
    /// A service or scope of a systemd manager.
    Unit(Unit),
    /// A container: the engine and the container's full id, and the user whose own
    /// (rootless) engine runs it when it lies inside that user's manager.
    Container {
        engine: Engine,
        id: String,
        user: Option<u32>,
    },
    /// A login session (`session-3.scope`) or a user's manager itself (`user@1000.service`,
    /// its `init.scope`): started by hand, not a service.
    Session(String),
    /// The root, a slice, or a path that names no unit loopwatch can trust: the path as read.
    Plain(OsText),
    /// No line of the file had the `ID:CONTROLLERS:PATH` shape.
    Garbled,
}

impl Placement {
    /// Parses the contents of `/proc/<pid>/cgroup`: the unified hierarchy's `0::PATH` line and,
    /// on cgroup v1 or hybrid systems, the `N:name=systemd:PATH` line systemd keeps its units
    /// in (preferred when present). Container ids are looked for in every line, as engines
    /// on cgroup v1 name them in each controller's hierarchy.
    pub fn from_proc(text: &str) -> Placement {
        let lines: Vec<(&str, &str, &str)> = text
            .lines()
            .filter_map(|line| {
                let mut parts = line.splitn(3, ':');
                let (id, controllers, path) = (parts.next()?, parts.next()?, parts.next()?);
                (!id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()) && path.starts_with('/'))
                    .then_some((id, controllers, path))
            })
            .collect();
        if lines.is_empty() {
            return Placement::Garbled;
        }
        if let Some((engine, id, user)) = lines.iter().find_map(|(_, _, path)| container_in(path)) {
            return Placement::Container { engine, id, user };
        }
        let systemd = lines
            .iter()
            .find(|(_, controllers, _)| *controllers == "name=systemd")
            .or_else(|| {
                lines
                    .iter()
                    .find(|(id, controllers, _)| *id == "0" && controllers.is_empty())
            })
            .map_or(lines[0].2, |(_, _, path)| path);
        unit_in(systemd)
    }
}

/// The unit systemd placed `path` in: the first component that is not a slice, and inside a
/// user's manager (`user@UID.service`) the first one below it that is not a slice.
fn unit_in(path: &str) -> Placement {
    let plain = || Placement::Plain(OsText::from(path));
    let mut parts = path
        .split('/')
        .filter(|p| !p.is_empty() && !p.ends_with(".slice"));
    let Some(first) = parts.next() else {
        return plain();
    };
    if !is_unit_name(first) {
        return plain();
    }
    if let Some(uid) = first
        .strip_prefix("user@")
        .and_then(|rest| rest.strip_suffix(".service"))
        .and_then(|uid| uid.parse::<u32>().ok())
    {
        return match parts.next() {
            None | Some("init.scope") => Placement::Session(first.to_string()),
            Some(unit) if is_unit_name(unit) && is_service_or_scope(unit) => {
                Placement::Unit(Unit {
                    name: unit.to_string(),
                    manager: Manager::User(uid),
                })
            }
            Some(_) => plain(),
        };
    }
    if first.starts_with("session-") && first.ends_with(".scope") {
        return Placement::Session(first.to_string());
    }
    if first == "init.scope" || !is_service_or_scope(first) {
        return plain();
    }
    Placement::Unit(Unit {
        name: first.to_string(),
        manager: Manager::System,
    })
}

fn is_service_or_scope(name: &str) -> bool {
    name.ends_with(".service") || name.ends_with(".scope")
}

/// systemd's own rule: at most 255 characters from `[A-Za-z0-9:_.\-@\\]`, a name before the
/// type suffix. Anything else (a control character, a space) is no unit systemd made.
fn is_unit_name(name: &str) -> bool {
    name.len() <= 255
        && name
            .rfind('.')
            .is_some_and(|dot| dot > 0 && dot + 1 < name.len())
        && name.bytes().all(|b| {
            b.is_ascii_alphanumeric() || matches!(b, b':' | b'_' | b'.' | b'-' | b'@' | b'\\')
        })
}

/// A container id in a cgroup path, where the engines put it: `/docker/<id>` and
/// `/libpod_parent/libpod-<id>` at the root (Docker's and Podman's cgroupfs drivers),
/// `/kubepods/.../pod<uid>/<id>` (Kubernetes' cgroupfs driver), and a `docker-<id>.scope`,
/// `libpod-<id>.scope`, `cri-containerd-<id>.scope` or `crio-<id>.scope` that is the first
/// component below the root's slices, or below a user's manager's slices (a rootless engine's,
/// run by that user). Anywhere else it is a name someone gave a cgroup of a subtree delegated
/// to them, which proves nothing: a process there is no more in that container than it is in
/// a unit by the name.
fn container_in(path: &str) -> Option<(Engine, String, Option<u32>)> {
    let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
    let scoped = |part: &str, prefix: &str| {
        part.strip_prefix(prefix)
            .map(|rest| rest.strip_suffix(".scope").unwrap_or(rest))
            .filter(|id| is_container_id(id))
            .map(str::to_string)
    };
    match parts.as_slice() {
        ["docker", id, ..] if is_container_id(id) => {
            return Some((Engine::Docker, (*id).to_string(), None));
        }
        ["libpod_parent", name, ..] => {
            return scoped(name, "libpod-").map(|id| (Engine::Podman, id, None));
        }
        ["kubepods" | "kubepods.slice", ..] if !parts.iter().any(|p| p.ends_with(".scope")) => {
            let last = parts.last().copied().filter(|id| is_container_id(id))?;
            return Some((Engine::Kubernetes, last.to_string(), None));
        }
        _ => {}
    }
    let mut units = parts.iter().filter(|p| !p.ends_with(".slice"));
    let mut first = *units.next()?;
    let user = first
        .strip_prefix("user@")
        .and_then(|rest| rest.strip_suffix(".service"))
        .and_then(|uid| uid.parse::<u32>().ok());
    if user.is_some() {
        first = *units.next()?;
    }
    [
        ("docker-", Engine::Docker),
        ("libpod-", Engine::Podman),
        ("cri-containerd-", Engine::Containerd),
        ("crio-", Engine::CriO),
    ]
    .into_iter()
    .find_map(|(prefix, engine)| scoped(first, prefix).map(|id| (engine, id, user)))
}

/// 64 lowercase hex digits, as every engine here names containers.
fn is_container_id(id: &str) -> bool {
    id.len() == 64 && id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "9b8996495768d3b4e5d8a3c29f3dfc4b0f2b5e2b9a7ddde1d1a3c5f0b6e4c2a1";

    fn unit(name: &str, manager: Manager) -> Placement {
        Placement::Unit(Unit {
            name: name.into(),
            manager,
        })
    }

    #[test]
    fn a_system_service_on_the_unified_hierarchy() {
        assert_eq!(
            Placement::from_proc("0::/system.slice/redis-server.service\n"),
            unit("redis-server.service", Manager::System)
        );
        // A service that delegates its subtree (a sub-cgroup of its own) is still that service.
        assert_eq!(
            Placement::from_proc("0::/system.slice/docker.service/sub\n"),
            unit("docker.service", Manager::System)
        );
        // Instances and escapes are part of valid names.
        assert_eq!(
            Placement::from_proc(
                "0::/system.slice/system-postgresql.slice/postgresql@16-main.service\n"
            ),
            unit("postgresql@16-main.service", Manager::System)
        );
    }

    #[test]
    fn a_user_service_is_the_first_unit_inside_the_users_manager() {
        assert_eq!(
            Placement::from_proc(
                "0::/user.slice/user-1000.slice/user@1000.service/app.slice/vite.service\n"
            ),
            unit("vite.service", Manager::User(1000))
        );
        // Below the user unit, a user may make cgroups of any name: they are not units.
        assert_eq!(
            Placement::from_proc(
                "0::/user.slice/user-1000.slice/user@1000.service/app.slice/vite.service/x.service\n"
            ),
            unit("vite.service", Manager::User(1000))
        );
    }

    #[test]
    fn login_sessions_and_the_user_manager_are_not_services() {
        assert_eq!(
            Placement::from_proc("0::/user.slice/user-1000.slice/session-3.scope\n"),
            Placement::Session("session-3.scope".into())
        );
        assert_eq!(
            Placement::from_proc("0::/user.slice/user-1000.slice/user@1000.service/init.scope\n"),
            Placement::Session("user@1000.service".into())
        );
        assert_eq!(
            Placement::from_proc("0::/user.slice/user-1000.slice/user@1000.service\n"),
            Placement::Session("user@1000.service".into())
        );
    }

    #[test]
    fn transient_units_from_systemd_run_are_told_apart() {
        let Placement::Unit(service) = Placement::from_proc("0::/system.slice/run-u12.service\n")
        else {
            panic!("a unit")
        };
        assert!(service.is_transient() && !service.is_scope());
        let Placement::Unit(scope) = Placement::from_proc(
            "0::/user.slice/user-1000.slice/user@1000.service/app.slice/run-p4242-i4543.scope\n",
        ) else {
            panic!("a unit")
        };
        assert!(scope.is_transient() && scope.is_scope());
        assert_eq!(scope.manager, Manager::User(1000));
        let Placement::Unit(file) = Placement::from_proc("0::/system.slice/nginx.service\n") else {
            panic!("a unit")
        };
        assert!(!file.is_transient());
    }

    #[test]
    fn cgroup_v1_and_hybrid_read_systemds_own_hierarchy() {
        let hybrid = "12:pids:/system.slice/redis-server.service\n\
                      11:memory:/system.slice/redis-server.service\n\
                      1:name=systemd:/system.slice/redis-server.service\n\
                      0::/system.slice/redis-server.service\n";
        assert_eq!(
            Placement::from_proc(hybrid),
            unit("redis-server.service", Manager::System)
        );
        // Pure v1: no unified line at all.
        let legacy =
            "4:memory:/system.slice/nginx.service\n1:name=systemd:/system.slice/nginx.service\n";
        assert_eq!(
            Placement::from_proc(legacy),
            unit("nginx.service", Manager::System)
        );
        // As on this kind of sandbox: a v1 controller elsewhere, systemd's hierarchy at the root.
        let sandbox =
            "9:name=systemd:/\n4:memory:/process_api/b6e30eab794bbd14b56a2f49cc876285\n0::/\n";
        assert_eq!(Placement::from_proc(sandbox), Placement::Plain("/".into()));
    }

    #[test]
    fn containers_by_each_engines_naming() {
        let at = |path: &str| Placement::from_proc(&format!("0::{path}\n"));
        let container = |engine| Placement::Container {
            engine,
            id: ID.to_string(),
            user: None,
        };
        assert_eq!(at(&format!("/docker/{ID}")), container(Engine::Docker));
        assert_eq!(
            at(&format!("/system.slice/docker-{ID}.scope")),
            container(Engine::Docker)
        );
        assert_eq!(
            at(&format!("/machine.slice/libpod-{ID}.scope/container")),
            container(Engine::Podman)
        );
        assert_eq!(
            at(&format!(
                "/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-{ID}.scope"
            )),
            Placement::Container {
                engine: Engine::Podman,
                id: ID.to_string(),
                user: Some(1000),
            }
        );
        assert_eq!(
            at(&format!(
                "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod0f1e.slice/cri-containerd-{ID}.scope"
            )),
            container(Engine::Containerd)
        );
        assert_eq!(
            at(&format!("/kubepods/besteffort/pod0f1e2d3c/{ID}")),
            container(Engine::Kubernetes)
        );
        assert_eq!(
            at(&format!("/kubepods.slice/crio-{ID}.scope")),
            container(Engine::CriO)
        );
        // cgroup v1 with the cgroupfs driver: the id is in every controller's line.
        let v1 = format!("5:memory:/docker/{ID}\n1:name=systemd:/docker/{ID}\n");
        assert_eq!(Placement::from_proc(&v1), container(Engine::Docker));
        // conmon's own scope is not the container; a short or upper-case id is no id.
        assert!(!matches!(
            at(&format!("/machine.slice/libpod-conmon-{ID}.scope")),
            Placement::Container { .. }
        ));
        assert!(!matches!(at("/docker/abc123"), Placement::Container { .. }));
    }

    /// A user may name the cgroups of a subtree delegated to them anything, a real container's
    /// id included: a process there is not in that container, and `docker stop ID` would stop
    /// someone else's.
    #[test]
    fn a_container_name_in_a_delegated_subtree_is_no_container() {
        for path in [
            format!(
                "/user.slice/user-1000.slice/user@1000.service/app.slice/vite.service/docker-{ID}.scope"
            ),
            format!(
                "/user.slice/user-1000.slice/user@1000.service/app.slice/x.service/docker/{ID}"
            ),
            format!("/system.slice/ci-runner.service/docker-{ID}.scope"),
            format!("/system.slice/ci-runner.service/libpod_parent/libpod-{ID}"),
            format!("/user.slice/user-1000.slice/session-3.scope/crio-{ID}.scope"),
            format!("/system.slice/app.service/kubepods/besteffort/pod0f1e2d3c/{ID}"),
        ] {
            assert!(
                !matches!(
                    Placement::from_proc(&format!("0::{path}\n")),
                    Placement::Container { .. }
                ),
                "{path}"
            );
        }
        // Where systemd puts a user's own units, a container is that user's rootless engine's,
        // never the system engine's container of the same id.
        assert_eq!(
            Placement::from_proc(&format!(
                "0::/user.slice/user-1000.slice/user@1000.service/app.slice/docker-{ID}.scope\n"
            )),
            Placement::Container {
                engine: Engine::Docker,
                id: ID.to_string(),
                user: Some(1000),
            }
        );
    }

    #[test]
    fn hostile_and_garbled_text_names_no_unit() {
        // A user can name cgroups in a delegated subtree: an escape sequence is no unit name.
        let hostile = "0::/system.slice/\u{1b}]0;pwn\u{7}.service\n";
        let Placement::Plain(path) = Placement::from_proc(hostile) else {
            panic!("not a unit")
        };
        assert_eq!(path.raw(), "/system.slice/\u{1b}]0;pwn\u{7}.service");
        assert!(!path.inert().chars().any(crate::model::is_unsafe));
        for text in [
            "",
            "garbage",
            "x:y:z",
            "0::",
            ":::\n\n",
            "0::relative/path",
            "\u{0}\u{0}",
        ] {
            assert_eq!(Placement::from_proc(text), Placement::Garbled, "{text:?}");
        }
        // Not a service or scope: a mount, a socket, a name without a suffix.
        for path in [
            "/system.slice/home.mount",
            "/system.slice/sshd",
            "/.service",
            "/init.scope",
        ] {
            assert!(
                matches!(
                    Placement::from_proc(&format!("0::{path}")),
                    Placement::Plain(_)
                ),
                "{path}"
            );
        }
        let long = format!("0::/system.slice/{}.service", "a".repeat(300));
        assert!(matches!(Placement::from_proc(&long), Placement::Plain(_)));
    }
}
