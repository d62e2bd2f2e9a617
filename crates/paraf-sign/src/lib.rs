//! PAdES signing: signature fields, appearances, CMS placement in incremental updates.
