//! How the popup lays out the vault's entries: search as the admin types, this site's keys first, the rest grouped by vendor and tenant, and what the short texts around them say (the popup words them).

use crate::engine::protocol::{EntrySummary, EntryTrust};

/// Entries of one vendor and tenant, newest first.
#[derive(Debug, PartialEq, Eq)]
pub struct Group<'a> {
    pub vendor: &'a str,
    pub vendor_name: &'a str,
    pub tenant: &'a str,
    pub entries: Vec<&'a EntrySummary>,
}

/// The entries the popup lists for a search, in the order it lists them.
#[derive(Debug, PartialEq, Eq)]
pub struct Arranged<'a> {
    /// Keys of the site in the active tab, newest first.
    pub here: Vec<&'a EntrySummary>,
    /// Every other matching key, grouped by vendor (by display name) and tenant.
    pub groups: Vec<Group<'a>>,
    /// How many keys match the search (foreign ones excluded: they are listed apart).
    pub shown: usize,
    /// How many keys there are to search (foreign ones excluded).
    pub total: usize,
}

/// Folds case and runs of spaces, so "  Predict HQ" finds "predict hq".
fn fold(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase()
}

/// Separates the fields of a [`search_text`]; no typed word holds it.
const FIELD_BREAK: char = '\u{1f}';

/// What a search looks through in `entry`, folded once: its vendor (id and name), key name,
/// tenant, account and scopes, each folded like the query and set apart by a character no
/// query word holds, so a word found in it is found in one field. Worth keeping while the admin
/// types: a keystroke then only compares.
pub fn search_text(entry: &EntrySummary) -> String {
    let fields = [&entry.vendor, &entry.vendor_name, &entry.key_name, &entry.tenant, &entry.account];
    let size: usize =
        fields.iter().map(|f| f.len() + 1).sum::<usize>() + entry.scopes.iter().map(|s| s.len() + 1).sum::<usize>();
    let mut text = String::with_capacity(size);
    for field in fields.into_iter().chain(&entry.scopes) {
        text.push(FIELD_BREAK);
        push_folded(&mut text, field);
    }
    text
}

/// Appends `field` to `text` as [`fold`] gives it, a [`FIELD_BREAK`] in it as a space, without a
/// string of its own for the common all-ASCII word (one search text is made per key).
fn push_folded(text: &mut String, field: &str) {
    for (i, word) in field.split_whitespace().enumerate() {
        if i > 0 {
            text.push(' ');
        }
        if word.is_ascii() {
            text.extend(word.chars().map(|c| if c == FIELD_BREAK { ' ' } else { c.to_ascii_lowercase() }));
        } else {
            text.push_str(&word.to_lowercase().replace(FIELD_BREAK, " "));
        }
    }
}

/// The words of a query, folded.
fn query_words(query: &str) -> Vec<String> {
    fold(query).split(' ').filter(|w| !w.is_empty() && !w.contains(FIELD_BREAK)).map(str::to_string).collect()
}

/// Whether `entry` matches the search `query`: every word of the query appears in its vendor
/// (id or name), key name, tenant, account or one of its scopes, ignoring case. An empty query
/// matches everything.
pub fn matches(entry: &EntrySummary, query: &str) -> bool {
    let text = search_text(entry);
    query_words(query).iter().all(|word| text.contains(word.as_str()))
}

/// Whether `entry` belongs to the site `host` of the active tab: its tenant is that host, or
/// that host and a path segment (a self-hosted tenant), or it was captured on that host.
pub fn is_here(entry: &EntrySummary, host: &str) -> bool {
    let host = host.trim().to_ascii_lowercase();
    if host.is_empty() {
        return false;
    }
    let tenant = entry.tenant.to_ascii_lowercase();
    let tenant_host = tenant.split('/').next().unwrap_or("");
    let page_host = entry
        .page_url
        .strip_prefix("https://")
        .and_then(|rest| rest.split(['/', '?', '#', ':']).next())
        .unwrap_or("")
        .to_ascii_lowercase();
    tenant_host == host || page_host == host
}

/// Newest first; among keys made at the same moment, by name, then id (a stable order).
fn newest_first(a: &&EntrySummary, b: &&EntrySummary) -> std::cmp::Ordering {
    b.created_at.cmp(&a.created_at).then_with(|| a.key_name.cmp(&b.key_name)).then_with(|| a.id.cmp(&b.id))
}

/// Lays out `entries` for the search `query` with the active tab on `host`: the keys of that
/// site first, then the others by vendor and tenant. Entries found in storage but not saved by
/// keywarden here ([`EntryTrust::Foreign`]) are left out; the popup shows them apart.
pub fn arrange<'a>(entries: &'a [EntrySummary], query: &str, host: Option<&str>) -> Arranged<'a> {
    let texts: Vec<String> = entries.iter().map(search_text).collect();
    arrange_searched(entries, &texts, query, host)
}

/// [`arrange`] with each entry's [`search_text`] computed beforehand (`texts[i]` for
/// `entries[i]`), as the popup keeps them while the admin types.
pub fn arrange_searched<'a>(
    entries: &'a [EntrySummary],
    texts: &[String],
    query: &str,
    host: Option<&str>,
) -> Arranged<'a> {
    let words = query_words(query);
    let known: Vec<(&EntrySummary, &String)> =
        entries.iter().zip(texts).filter(|(e, _)| e.trust != EntryTrust::Foreign).collect();
    let total = known.len();
    let matching: Vec<&EntrySummary> =
        known.into_iter().filter(|(_, text)| words.iter().all(|w| text.contains(w.as_str()))).map(|(e, _)| e).collect();
    let shown = matching.len();
    let (mut here, rest): (Vec<_>, Vec<_>) = matching.into_iter().partition(|e| host.is_some_and(|h| is_here(e, h)));
    here.sort_by(newest_first);
    let mut groups: Vec<Group<'a>> = Vec::new();
    for entry in rest {
        let name = if entry.vendor_name.is_empty() { &entry.vendor } else { &entry.vendor_name };
        match groups.iter_mut().find(|g| g.vendor == entry.vendor && g.tenant == entry.tenant) {
            Some(group) => group.entries.push(entry),
            None => groups.push(Group {
                vendor: &entry.vendor,
                vendor_name: name,
                tenant: &entry.tenant,
                entries: vec![entry],
            }),
        }
    }
    for group in &mut groups {
        group.entries.sort_by(newest_first);
    }
    groups.sort_by(|a, b| {
        (a.vendor_name.to_lowercase(), a.vendor, a.tenant).cmp(&(b.vendor_name.to_lowercase(), b.vendor, b.tenant))
    });
    Arranged { here, groups, shown, total }
}

/// One or two letters standing for a vendor in its icon: the initials of its first two words
/// ("Predictive Index" → "PI"), else its first letter and the next capital ("PredictHQ" → "PH"),
/// else its first letter ("Gotransverse" → "G").
pub fn monogram(name: &str) -> String {
    let words: Vec<&str> = name.split_whitespace().collect();
    let initial = |w: &str| w.chars().next().map(|c| c.to_uppercase().collect::<String>()).unwrap_or_default();
    match words.as_slice() {
        [] => "?".into(),
        [one] => {
            let mut chars = one.chars();
            let first = initial(one);
            chars.next();
            match chars.find(|c| c.is_uppercase()) {
                Some(capital) => format!("{first}{capital}"),
                None => first,
            }
        }
        [a, b, ..] => format!("{}{}", initial(a), initial(b)),
    }
}

/// A hue (0–359) for a vendor's icon, the same for the same vendor id everywhere.
pub fn hue(vendor: &str) -> u16 {
    // FNV-1a: small and stable across builds and platforms.
    let hash = vendor.bytes().fold(0x811c_9dc5_u32, |h, b| (h ^ u32::from(b)).wrapping_mul(0x0100_0193));
    (hash % 360) as u16
}

/// The name an entry is listed under: its key name, or `None` when it has none (the popup then
/// calls it an unnamed key).
pub fn given_name(entry: &EntrySummary) -> Option<&str> {
    if entry.key_name.trim().is_empty() {
        None
    } else {
        Some(&entry.key_name)
    }
}

/// The key masked but for its last characters, as a row shows it ("•••• abcd").
pub fn masked(hint: &str) -> String {
    format!("•••• {}", hint.trim_start_matches('…'))
}

/// Which form a count of things takes in a sentence: one thing, or any other number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Plural {
    One,
    Other,
}

/// The form for `n` things ("1 key", "0 keys", "3 keys").
pub fn plural(n: usize) -> Plural {
    if n == 1 {
        Plural::One
    } else {
        Plural::Other
    }
}

/// Whole seconds left until `until` (Unix ms) at `now`, rounded up.
pub fn seconds_left(until: u64, now: u64) -> u64 {
    until.saturating_sub(now).div_ceil(1000)
}
