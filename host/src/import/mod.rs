//! Importing a spreadsheet (CSV or XLSX) into any entity type: reading the file (`sheet`),
//! what the import is told and the mapping suggested from the headers (`options`), cells
//! turned into values (`convert`), and the passes over the rows — dry run and import — in the
//! background (`run`). The log, the per-row record for an undo and the undo itself are the
//! core's (`qingguan_core::imports`).

pub mod convert;
pub mod options;
pub mod run;
pub mod service;
pub mod sheet;

pub use options::ImportOptions;
