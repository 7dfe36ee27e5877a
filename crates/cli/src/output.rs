//! Where command results go: text for people, or JSON.

use std::io::Write as _;

use serde::Serialize;

/// Standard output was closed by its reader (`mingpian … | head`): the command ends quietly.
/// Only writes to standard output say this; a broken pipe elsewhere (a FIFO given as a file)
/// is a real error.
#[derive(Debug)]
pub struct StdoutClosed;

impl std::fmt::Display for StdoutClosed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("standard output was closed")
    }
}

impl std::error::Error for StdoutClosed {}

/// A failed write to standard output, as an error: [`StdoutClosed`] when the reader went away.
pub fn stdout_error(e: std::io::Error) -> anyhow::Error {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        StdoutClosed.into()
    } else {
        anyhow::Error::new(e).context("writing to standard output")
    }
}

#[derive(Debug)]
pub struct Output {
    json: bool,
}

impl Output {
    pub fn new(json: bool) -> Self {
        Output { json }
    }

    pub fn json(&self) -> bool {
        self.json
    }

    /// Prints one JSON value (pretty, one document on stdout).
    pub fn value<T: Serialize>(&self, value: &T) -> anyhow::Result<()> {
        // Buffered: standard output flushes at every line, and pretty JSON is many lines.
        let mut stdout = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
        serde_json::to_writer_pretty(&mut stdout, value)
            .map_err(std::io::Error::from)
            .map_err(stdout_error)?;
        writeln!(stdout).map_err(stdout_error)?;
        stdout.flush().map_err(stdout_error)?;
        Ok(())
    }

    /// Prints one JSON document for a list of per-input results: the object itself for one
    /// input, an array for several.
    pub fn one_or_many<T: Serialize>(&self, mut values: Vec<T>) -> anyhow::Result<()> {
        if values.len() == 1 {
            let only = values.remove(0);
            self.value(&only)
        } else {
            self.value(&values)
        }
    }

    /// Prints a line of text for people (ignored in JSON mode).
    pub fn line(&self, text: impl AsRef<str>) -> anyhow::Result<()> {
        if !self.json {
            let mut stdout = std::io::stdout().lock();
            writeln!(stdout, "{}", text.as_ref()).map_err(stdout_error)?;
        }
        Ok(())
    }
}
