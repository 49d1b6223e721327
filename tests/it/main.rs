//! Black-box tests of Qingguan through its public boundaries: HTTP over a real socket and
//! the command line, against real SQLite files.

mod appraisal;
mod auth;
mod bad_input;
mod browser;
mod cli;
mod core_trust;
mod export;
mod finance;
mod first_contact_admin;
mod first_contact_lang;
mod first_contact_more;
mod first_contact_more2;
mod first_contact_plugins;
mod first_contact_ui;
mod hot_swap;
mod http_trust;
mod i18n_errors;
mod inventory;
mod kanban_board;
mod layers;
mod other_languages;
mod permissions;
mod plugin_trust;
mod plugins;
mod query;
mod records;
mod sales;
mod schema;
mod sdk;
mod sdk12;
mod studio_more;
mod studio_ui;
mod test_host;
mod ui_forms;
mod workflows;
