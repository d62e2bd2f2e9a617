//! PDF syntax: a lazy, tolerant reader of real-world PDFs and an incremental-update writer.
