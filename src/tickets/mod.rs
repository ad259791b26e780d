//! Support tickets become draft cases (`evalgate import`). A helpdesk export (Zendesk,
//! Intercom, Freshdesk, Help Scout) is read into one model ([`model`], by [`vendor`], with
//! [`html`] bodies turned into text); every text written is first redacted ([`redact`]);
//! a failure mode is guessed from tags and phrases ([`failure`]); [`draft`] chooses the
//! turns a case is made of and writes its YAML; [`import`] puts it together: duplicates of
//! existing cases and of other tickets, never overwriting, nothing written when an export
//! is bad.

mod draft;
mod failure;
mod html;
mod import;
mod model;
mod redact;
mod vendor;

pub(crate) use draft::quoted;
pub(crate) use import::{ImportOptions, ImportReport, SkipReason, import};
pub(crate) use model::Vendor;
