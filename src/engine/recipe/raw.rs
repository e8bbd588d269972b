//! The recipe file as written: a loose serde image of the TOML, validated into `Recipe` next door.

use serde::Deserialize;
use std::collections::BTreeMap;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRecipe {
    pub vendor: RawVendor,
    pub key: RawKey,
    #[serde(default)]
    pub prerequisites: Vec<String>,
    /// Named word lists, used in phrases as `{name}`.
    #[serde(default)]
    pub words: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    pub page: Vec<RawPage>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawVendor {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub hosts: Vec<String>,
    /// Hosts that `hosts` covers but are not the app (the vendor's documentation, support site).
    #[serde(default)]
    pub not_hosts: Vec<String>,
    #[serde(default)]
    pub self_hosted: bool,
    pub tenant: Option<String>,
    /// Where the admin creates keys (an `https://` page on one of `hosts`).
    pub key_page_url: Option<String>,
    /// Self-hosted: where keys are created on a server, relative to the address the admin added.
    pub server_key_page: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawKey {
    pub label: String,
    pub charset: Vec<String>,
    pub min_len: u32,
    pub max_len: u32,
    pub format: Option<String>,
    pub check: Option<RawCheck>,
    #[serde(default)]
    pub replaces_previous: bool,
    /// Phrases that announce the key beside it (its label, heading, dialog, the text before it).
    #[serde(default)]
    pub context: Vec<String>,
    /// Steps whose action makes the vendor show a new key.
    #[serde(default)]
    pub generated_by: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawCheck {
    pub method: String,
    pub url: String,
    pub header: String,
    pub value: String,
    pub ok_status: Vec<u16>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawPage {
    pub id: String,
    #[serde(default)]
    pub key_page: bool,
    #[serde(default)]
    pub paths: Vec<String>,
    #[serde(default)]
    pub hashes: Vec<String>,
    /// Patterns over the path and fragment together (`path#fragment`), for an app that may route
    /// by either: one of them must match.
    #[serde(default)]
    pub routes: Vec<String>,
    #[serde(default)]
    pub all: Vec<RawMatcher>,
    #[serde(default)]
    pub none: Vec<RawMatcher>,
    /// Steps of which one must have been seen earlier in this tab.
    #[serde(default)]
    pub after: Vec<String>,
    #[serde(default)]
    pub step: Vec<RawStep>,
    #[serde(default)]
    pub field: Vec<RawField>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawField {
    pub name: String,
    pub read: String,
    pub target: Vec<RawMatcher>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawStep {
    pub id: String,
    pub title: String,
    pub body: String,
    pub why: Option<String>,
    #[serde(default)]
    pub target: Vec<RawMatcher>,
    pub done: Option<String>,
    #[serde(default)]
    pub capture: bool,
    pub warning: Option<String>,
    pub missing: Option<String>,
    #[serde(default)]
    pub guard: Vec<RawMatcher>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawMatcher {
    #[serde(default)]
    pub role: Vec<String>,
    #[serde(default)]
    pub text: Vec<String>,
    #[serde(default)]
    pub label: Vec<String>,
    #[serde(default)]
    pub mentions: Vec<String>,
    #[serde(default)]
    pub near: Vec<String>,
    #[serde(default)]
    pub icon: Vec<String>,
    #[serde(default)]
    pub opens_menu: bool,
    #[serde(default)]
    pub in_dialog: bool,
    #[serde(default)]
    pub secret: bool,
}
