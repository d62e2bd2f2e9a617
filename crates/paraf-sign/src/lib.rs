//! PAdES signing: signature fields, appearances, CMS placement in incremental updates.
//!
//! The engine is synchronous and does no I/O: keys, timestamp authorities and revocation
//! sources come in as traits from `paraf-pki`, time as a parameter.

pub mod appearance;
pub mod archive;
pub mod error;
pub mod fields;
pub mod form;
pub mod pades;
pub mod pages;
pub mod placement;

pub use archive::{archive_expiry, renew_archive};
pub use error::{SignError, SignErrorKind};
pub use pades::{
    add_dss, common_name, document_timestamp, human_date, pdf_date, sign, sign_owned, DocMdp,
    Level, Services, SignOptions, Signed, SubFilter, Visible,
};
pub use placement::{Placement, Spot};
