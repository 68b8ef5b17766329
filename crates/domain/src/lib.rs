//! The words of gridsweep as types.
//!
//! Everything here is pure: no I/O, no clock, no database. Identifiers are
//! newtypes that validate on construction so that a bad value is refused at
//! the edge of the system (a CSV row, an HTTP body, a scan) and cannot travel
//! further in.
#![forbid(unsafe_code)]

pub mod area;
pub mod ids;
pub mod mask;
pub mod person;
pub mod pipeline;
pub mod reach;
pub mod role;
pub mod site;

pub use area::{AreaError, AreaId, AreaLevel, AreaPath};
pub use ids::{Barcode, IdError, IdNumber, Phone};
pub use mask::{mask_document, mask_id_number, mask_name, mask_phone};
pub use person::{
    Affiliation, AffiliationKind, DocumentKind, Gender, PersonDocument, PersonId, PersonName,
};
pub use reach::Reach;
pub use role::{ROLES, Role};
pub use site::SiteKind;
