//! What the benchmarks drive besides the public API: the live table's state and one frame,
//! behind the `testing` feature.

use ratatui::Frame;

use crate::app::App;
use crate::app::action::{Action, Viewport};
use crate::model::{Query, Snapshot};

/// The live table's state, with everything collected shown.
pub struct Table(App);

impl Table {
    /// An empty table whose body shows `rows` rows.
    pub fn new(rows: usize) -> Self {
        let mut app = App::new(Query::EVERYTHING);
        app.update(Action::Viewport(Viewport::rows(rows)));
        Self(app)
    }

    /// A new snapshot arrives: filter, sort, keep the selection.
    pub fn show(&mut self, snapshot: Snapshot) {
        self.0.update(Action::Snapshot(snapshot));
    }

    pub fn down(&mut self) {
        self.0.update(Action::Down);
    }

    pub fn up(&mut self) {
        self.0.update(Action::Up);
    }

    /// The `s` key: sort by the next column.
    pub fn sort_next(&mut self) {
        self.0.update(Action::SortNext);
    }

    pub fn page_down(&mut self) {
        self.0.update(Action::PageDown);
    }

    /// Draws the table as the live view does.
    pub fn draw(&self, frame: &mut Frame) {
        crate::ui::draw(frame, &self.0);
    }
}
