//! BSrE/console HTTP tests (console).
