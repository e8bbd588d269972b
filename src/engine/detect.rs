//! Key detection: which on-screen string is the vendor's new key, judged by its outline and where it sits.

use crate::engine::recipe::{Recipe, Step};
use crate::engine::recognize::{Recognition, Scene};

/// The element showing `recipe`'s key in its context ([`Scene::is_key`]) that sits nearest (in
/// document order) to `anchor`, the element the capture step points at (the vendor's copy button).
pub fn locate_key(scene: &Scene<'_>, recipe: &Recipe, anchor: usize) -> Option<usize> {
    scene
        .model
        .elements
        .iter()
        .enumerate()
        .filter(|&(i, _)| scene.is_key(i, &recipe.key))
        .min_by_key(|(i, _)| i.abs_diff(anchor))
        .map(|(i, _)| i)
}

/// Where the key is on a recognized page: the first capture step whose target is on screen,
/// that target, and the key element beside it.
pub fn key_on_screen<'r>(rec: &Recognition<'r>, scene: &Scene<'_>) -> Option<(&'r Step, usize, usize)> {
    rec.page.steps.iter().filter(|s| s.capture).find_map(|step| {
        let anchor = scene.find_any(&step.target, &rec.recipe.key)?;
        let key = locate_key(scene, rec.recipe, anchor)?;
        Some((step, anchor, key))
    })
}
