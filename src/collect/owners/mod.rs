//! Which processes hold a socket.
//!
//! Linux names a socket only by inode; the processes holding it are found through
//! `/proc/<pid>/fd` ([`procfs`]), remembered between ticks by [`cache`] so a steady tick reads
//! almost nothing. A socket can be held by many processes at once (pre-fork servers, inherited
//! or passed descriptors), so every holder is kept. Other platforms report pids with the socket
//! itself, and use [`NoOwners`].

use super::{OwnerLookup, OwnerSource};

#[cfg(any(target_os = "linux", target_os = "android"))]
pub mod cache;
#[cfg(any(target_os = "linux", target_os = "android"))]
pub mod procfs;

#[cfg(any(target_os = "linux", target_os = "android"))]
pub use cache::CachedOwners;
#[cfg(any(target_os = "linux", target_os = "android"))]
pub use procfs::ProcFs;

/// The owner source for this platform.
pub fn platform_owner_source() -> Box<dyn OwnerSource> {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        Box::new(CachedOwners::new(ProcFs::new()))
    }
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    {
        Box::new(NoOwners)
    }
}

/// For platforms whose socket source reports pids itself: there is nothing to look up.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoOwners;

impl OwnerSource for NoOwners {
    fn owners(&mut self, _inodes: &[u64]) -> OwnerLookup {
        OwnerLookup::default()
    }
}
