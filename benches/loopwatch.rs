//! `cargo bench`: the costs that decide whether loopwatch can stay open all day.
//!
//! The collector benches read this machine's real sockets and processes (start
//! `scripts/fixture.py` first to see a busy host); the app and frame benches use the fake
//! 10,000-socket snapshot from `collect::fake`, so they measure loopwatch alone.

use std::hint::black_box;
use std::net::TcpListener;

use divan::Bencher;
use loopwatch::bench::Table;
use loopwatch::collect::{Collector, system_collector};
use loopwatch::model::Query;
use loopwatch::model::fixtures::many_sockets;
use ratatui::Terminal;
use ratatui::backend::TestBackend;

fn main() {
    divan::main();
}

/// A collector that has already run once, as in the live table after its first frame.
fn warm_collector(query: Query) -> Box<dyn Collector> {
    let mut collector = system_collector().unwrap_or_else(|e| panic!("collector: {e}"));
    let _ = collector.collect_changed(&query);
    collector
}

/// One tick of the live table on an unchanged host: dump, cached owners, no join.
#[divan::bench]
fn collect_steady_tick(bencher: Bencher) {
    let query = Query::default();
    let mut collector = warm_collector(query);
    bencher.bench_local(|| black_box(collector.collect_changed(&query)));
}

/// A full snapshot from a warm collector: what every tick cost before unchanged ticks
/// skipped the join.
#[divan::bench]
fn collect_snapshot_warm(bencher: Bencher) {
    let query = Query::default();
    let mut collector = warm_collector(query);
    bencher.bench_local(|| black_box(collector.collect(&query)));
}

/// `loopwatch who PORT` without the process start: a fresh collector, one port.
#[divan::bench(sample_count = 20)]
fn collect_who_cold(bencher: Bencher) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("bind: {e}"));
    let port = listener.local_addr().map_or(0, |a| a.port());
    let query = Query::port(port);
    bencher.bench_local(|| {
        let mut collector = system_collector().unwrap_or_else(|e| panic!("collector: {e}"));
        black_box(collector.collect(&query))
    });
}

/// A new snapshot of 10,000 sockets reaching the app: filter, sort, keep the selection.
#[divan::bench]
fn app_snapshot_10k(bencher: Bencher) {
    let mut table = Table::new(45);
    let snapshot = many_sockets(10_000);
    bencher
        .with_inputs(|| snapshot.clone())
        .bench_local_values(|s| table.show(black_box(s)));
}

/// The first snapshot of 100,000 sockets reaching the app: what stands between the collector
/// and the first frame at that size.
#[divan::bench(sample_count = 10)]
fn app_first_snapshot_100k(bencher: Bencher) {
    let snapshot = many_sockets(100_000);
    bencher
        .with_inputs(|| (Table::new(45), snapshot.clone()))
        .bench_local_values(|(mut table, s)| {
            table.show(black_box(s));
            table
        });
}

/// The next snapshot of 100,000 sockets, one socket changed: the history diff, then the
/// table again.
#[divan::bench(sample_count = 10)]
fn app_next_snapshot_100k(bencher: Bencher) {
    let mut table = Table::new(45);
    let snapshot = many_sockets(100_000);
    table.show(snapshot.clone());
    let mut next = snapshot;
    next.sockets.pop();
    bencher
        .with_inputs(|| next.clone())
        .bench_local_values(|s| table.show(black_box(s)));
}

/// The `s` key on a 100,000-row table: sorted by the next column (cycling through all).
#[divan::bench(sample_count = 30)]
fn app_sort_key_100k(bencher: Bencher) {
    let mut table = Table::new(45);
    table.show(many_sockets(100_000));
    bencher.bench_local(|| table.sort_next());
}

/// Moving the selection one row in a 10,000-row table.
#[divan::bench]
fn app_move_10k(bencher: Bencher) {
    let mut table = Table::new(45);
    table.show(many_sockets(10_000));
    table.page_down();
    bencher.bench_local(|| {
        table.down();
        table.up();
    });
}

/// One frame of a 10,000-row table at 200x50: only the visible rows are built.
#[divan::bench]
fn draw_frame_10k(bencher: Bencher) {
    let mut table = Table::new(45);
    table.show(many_sockets(10_000));
    let mut terminal =
        Terminal::new(TestBackend::new(200, 50)).unwrap_or_else(|e| panic!("terminal: {e}"));
    bencher.bench_local(|| black_box(terminal.draw(|frame| table.draw(frame)).map(|_| ())));
}

/// The kernel's socket table alone, as the live table asks for it (listeners and UDP).
#[cfg(target_os = "linux")]
#[divan::bench]
fn sock_diag_dump_listeners() -> usize {
    loopwatch::collect::sock_diag::dump(&Query::default()).map_or(0, Iterator::count)
}

/// The owner cache on an unchanged host, for every listener and UDP socket of this machine.
#[cfg(target_os = "linux")]
#[divan::bench]
fn owners_steady_tick(bencher: Bencher) {
    use loopwatch::collect::OwnerSource;
    use loopwatch::collect::owners::{CachedOwners, ProcFs};
    let inodes: Vec<u64> = loopwatch::collect::sock_diag::dump(&Query::default())
        .map(|dump| dump.filter_map(Result::ok).map(|s| s.inode).collect())
        .unwrap_or_default();
    let mut owners = CachedOwners::new(ProcFs::new());
    owners.owners(&inodes);
    bencher.bench_local(|| black_box(owners.owners(&inodes)));
}
