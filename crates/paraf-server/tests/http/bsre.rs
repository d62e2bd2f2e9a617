//! BSrE/console HTTP tests (bsre).
