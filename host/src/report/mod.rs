//! Figures and reports made from run directories.
pub mod plot;
pub mod preview;
