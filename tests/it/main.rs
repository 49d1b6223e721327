//! Black-box tests of Qingguan through its public boundaries: HTTP over a real socket and
//! the command line, against real SQLite files.

mod appraisal;
mod auth;
mod bad_input;
mod browser;
mod cli;
mod hot_swap;
mod i18n_errors;
mod layers;
mod permissions;
mod plugins;
mod query;
mod records;
mod sales;
mod schema;
mod sdk;
mod test_host;
mod ui_forms;
