//! A plugin whose dependency cannot be satisfied.

use qingguan_plugin_sdk::*;

struct BadDeps;

impl Plugin for BadDeps {}

export_plugin!(BadDeps);
