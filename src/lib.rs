//! keywarden recognizes vendor consoles where admins create API keys, walks them through the
//! steps with an overlay, and captures the key the page shows once.
//!
//! `engine` is the pure core (recipes, recognition, the walkthrough, key detection, the message
//! protocol); it builds and is tested natively. `web` adapts the browser to it and exists only
//! on wasm32: the service worker, the step panel and the popup run it; content scripts are plain
//! JavaScript that report the page and draw what the worker decides.
#![forbid(unsafe_code)]

pub mod engine;

/// Saved-page explanations for recipe authors (`keywarden-tool explain`); native builds only.
#[cfg(not(target_arch = "wasm32"))]
pub mod explain;

#[cfg(target_arch = "wasm32")]
pub mod web;
