//! How one-shot answers are written: aligned text tables, the versioned JSON documents and the
//! OpenMetrics exposition of `list`.

pub(crate) mod json;
pub(crate) mod openmetrics;
pub(crate) mod text;

/// Text written through the ASCII stand-ins of its glyphs (`domain::text::to_ascii`), for a
/// locale that is not UTF-8. Each write is one whole piece of text, as every command writes.
pub(crate) struct AsciiWriter<W>(pub(crate) W);

impl<W: std::io::Write> std::io::Write for AsciiWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match std::str::from_utf8(buf) {
            Ok(text) => {
                self.0
                    .write_all(crate::domain::text::to_ascii(text).as_bytes())?;
                Ok(buf.len())
            }
            Err(_) => self.0.write(buf),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush()
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write as _;

    #[test]
    fn the_ascii_writer_replaces_glyphs_only() {
        let mut out = super::AsciiWriter(Vec::new());
        write!(out, "⚠ 127.0.0.1:5173 → 127.0.0.1:62893 日本語").unwrap();
        assert_eq!(
            String::from_utf8(out.0).unwrap(),
            "! 127.0.0.1:5173 > 127.0.0.1:62893 日本語"
        );
    }
}
