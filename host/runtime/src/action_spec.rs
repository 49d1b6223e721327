//! The actions a manifest declares: buttons on records of a type, and the inputs an action
//! asks for before it runs (the UI shows a form with exactly those; the plugin gets them as its
//! JSON input).

use qingguan_core::Label;
use serde::{Deserialize, Serialize};

/// A named action (a button on a record).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActionSpec {
    /// Name passed to the plugin.
    pub name: String,
    /// Entity type it applies to.
    pub entity: String,
    /// Button text.
    pub label: Label,
    /// What the action asks for before it runs (the UI shows a small form with exactly
    /// these; the plugin gets them as its JSON input).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub inputs: Vec<ActionInput>,
}

/// One input an action asks for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActionInput {
    /// Its key in the action's JSON input.
    pub name: String,
    pub label: Label,
    /// `text` (default), `long_text`, `date`, `number` or `select`.
    #[serde(default = "text_kind", rename = "type")]
    pub kind: String,
    /// The choices of a `select`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<qingguan_core::SelectOption>,
    #[serde(default)]
    pub required: bool,
}

fn text_kind() -> String {
    "text".into()
}
