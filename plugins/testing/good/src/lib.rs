//! A well-behaved test plugin: every export does something observable through the host.

mod plugin;
