//! The pure core: everything the extension decides, in plain Rust with no browser APIs, tested natively.

pub mod clipboard;
pub mod controller;
pub mod detect;
pub mod keeper;
pub mod listing;
pub mod page;
pub mod protocol;
pub mod recipe;
pub mod recognize;
pub mod registration;
pub mod secret;
pub mod service;
pub mod storage;
pub mod text;
pub mod vault;
pub mod walkthrough;
pub mod words;
