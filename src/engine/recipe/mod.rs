//! Vendor recipes: the declarative description of a vendor's pages, steps and key, parsed then validated.
//!
//! A recipe is TOML (see `vendors/`). `Recipe::parse` reads it loosely (`raw`), then checks every
//! field and builds the typed form the rest of the engine uses; an error names the file and the
//! field path (`page[1].step[0].target[0].role`). The extension reads the built-in recipes in
//! the JSON form `build.rs` converts them to (`Recipe::parse_json`), and so carries no TOML parser.

mod raw;
mod vocabulary;

use crate::engine::page::{Role, SecretShape};
use crate::engine::words::Words;
use crate::words;
use raw::{RawCheck, RawField, RawKey, RawMatcher, RawPage, RawRecipe, RawStep, RawVendor};
use std::fmt;
pub use vocabulary::{Vocabulary, WordsError, MAX_EXPANSIONS};

include!(concat!(env!("OUT_DIR"), "/builtin_recipes.rs"));

/// A problem in a recipe file, naming the file and the field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecipeError {
    pub file: String,
    pub field: String,
    pub problem: String,
}

impl fmt::Display for RecipeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.field.is_empty() {
            write!(f, "{}: {}", self.file, self.problem)
        } else {
            write!(f, "{}: {}: {}", self.file, self.field, self.problem)
        }
    }
}

impl std::error::Error for RecipeError {}

/// Where a vendor's pages live: one host, or every subdomain of a domain (`*.example.com`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostPattern {
    Exact(String),
    Subdomains(String),
}

impl HostPattern {
    /// Could some host match both patterns?
    pub fn overlaps(&self, other: &HostPattern) -> bool {
        match (self, other) {
            (HostPattern::Exact(a), b) | (b, HostPattern::Exact(a)) => b.matches(a),
            (HostPattern::Subdomains(a), HostPattern::Subdomains(b)) => {
                a == b || HostPattern::Subdomains(a.clone()).matches(b) || HostPattern::Subdomains(b.clone()).matches(a)
            }
        }
    }

    pub fn matches(&self, host: &str) -> bool {
        match self {
            HostPattern::Exact(h) => host == h,
            HostPattern::Subdomains(d) => {
                host.strip_suffix(d.as_str()).is_some_and(|p| p.len() > 1 && p.ends_with('.'))
            }
        }
    }

    /// The manifest match pattern for this host (`https://host/*`).
    pub fn match_pattern(&self) -> String {
        match self {
            HostPattern::Exact(h) => format!("https://{h}/*"),
            HostPattern::Subdomains(d) => format!("https://*.{d}/*"),
        }
    }
}

/// A `*`-wildcard pattern over a URL path or fragment, compared case-insensitively.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Glob(String);

impl Glob {
    pub fn matches(&self, s: &str) -> bool {
        glob_match(self.0.as_bytes(), s.to_ascii_lowercase().as_bytes())
    }
}

fn glob_match(p: &[u8], s: &[u8]) -> bool {
    match p.split_first() {
        None => s.is_empty(),
        Some((b'*', rest)) => (0..=s.len()).any(|i| glob_match(rest, &s[i..])),
        Some((c, rest)) => s.first() == Some(c) && glob_match(rest, &s[1..]),
    }
}

/// The characters a vendor's keys are made of.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Charset {
    pub lower: bool,
    pub upper: bool,
    pub digit: bool,
    /// 0-9 and a-f in either case.
    pub hex: bool,
    pub symbols: String,
}

impl Charset {
    fn allows(&self, c: char) -> bool {
        (self.lower && c.is_ascii_lowercase())
            || (self.upper && c.is_ascii_uppercase())
            || (self.digit && c.is_ascii_digit())
            || (self.hex && c.is_ascii_hexdigit())
            || self.symbols.contains(c)
    }
}

/// A stricter layout some vendors' keys have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyFormat {
    Guid,
    Hex,
}

/// How to test a key against the vendor's API (used by a later feature; validated now).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyCheck {
    /// `https://…`; `https://{host}/…` for the host of the tenant the key belongs to (Gotransverse's
    /// API answers on each tenant's own subdomain).
    pub method: String,
    pub url: String,
    pub header: String,
    pub value: String,
    pub ok_status: Vec<u16>,
}

/// What a vendor's key looks like.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeySpec {
    pub label: String,
    pub charset: Charset,
    pub min_len: u32,
    pub max_len: u32,
    pub format: Option<KeyFormat>,
    pub check: Option<KeyCheck>,
    /// One key per account: a new key replaces the account's previous one at the vendor.
    pub replaces_previous: bool,
    /// Normalized phrases that announce the key where it is shown (its label, the heading or
    /// dialog it sits in, the text right before it): a key-shaped string elsewhere is not the key.
    pub context: Vec<String>,
    /// Steps whose action makes the vendor show a new key: right after one of them in a tab, a
    /// key-shaped string there counts as the key even where nothing announces it.
    pub generated_by: Vec<String>,
}

impl KeyCheck {
    /// The URL to check a key of the tenant at `host` against.
    pub fn url_for(&self, host: &str) -> String {
        self.url.replacen("https://{host}/", &format!("https://{host}/"), 1)
    }
}

impl KeySpec {
    /// Could a string of this outline be one of this vendor's keys?
    pub fn fits_shape(&self, s: &SecretShape) -> bool {
        let c = &self.charset;
        let hex_ok = c.hex && s.hex;
        let classes_ok = (!s.lower || c.lower || hex_ok)
            && (!s.upper || c.upper || hex_ok)
            && (!s.digit || c.digit || c.hex)
            && s.symbols.chars().all(|c| self.charset.symbols.contains(c));
        let format_ok = match self.format {
            Some(KeyFormat::Guid) => s.guid,
            Some(KeyFormat::Hex) => s.hex && s.symbols.is_empty(),
            None => true,
        };
        classes_ok && format_ok && (self.min_len..=self.max_len).contains(&s.len)
    }

    /// Could this exact string be one of this vendor's keys?
    pub fn accepts(&self, key: &str) -> bool {
        let len = key.chars().count() as u32;
        let format_ok = match self.format {
            Some(KeyFormat::Guid) => is_guid(key),
            Some(KeyFormat::Hex) => key.chars().all(|c| c.is_ascii_hexdigit()),
            None => true,
        };
        format_ok && (self.min_len..=self.max_len).contains(&len) && key.chars().all(|c| self.charset.allows(c))
    }
}

fn is_guid(s: &str) -> bool {
    let groups: Vec<&str> = s.split('-').collect();
    groups.len() == 5
        && groups.iter().zip([8, 4, 4, 4, 12]).all(|(g, n)| g.len() == n && g.chars().all(|c| c.is_ascii_hexdigit()))
}

/// One way to find an element: every criterion given must hold.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Matcher {
    /// Any of these roles (empty: any role).
    pub roles: Vec<Role>,
    /// The element's text, accessible label or icon name is one of these phrases (normalized).
    pub text: Vec<String>,
    /// The element's label is one of these phrases (normalized).
    pub label: Vec<String>,
    /// The element's text or label contains one of these phrases (or its plural) as whole words
    /// (normalized).
    pub mentions: Vec<String>,
    /// The text right beside the element (a label that is only a neighbouring text) is one of
    /// these phrases (normalized).
    pub near: Vec<String>,
    /// The element shows one of these icons (an icon font's ligature or an icon's name, such as
    /// `content_copy`), normalized.
    pub icon: Vec<String>,
    /// The element opens a menu (the user menu under a name, a gear menu).
    pub opens_menu: bool,
    /// The element sits inside a dialog.
    pub in_dialog: bool,
    /// The element shows a string shaped like this vendor's key.
    pub secret: bool,
}

/// When a step counts as done without the admin pressing Next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Done {
    /// Only when acknowledged (Next) or when the page moves on.
    Ack,
    /// When the target field holds something.
    Filled,
    /// When the target checkbox is on.
    Checked,
}

/// One instruction of the walkthrough, tied to an element on its page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub id: String,
    pub title: String,
    pub body: String,
    pub why: Option<String>,
    /// Alternatives in order of preference; the first that finds an element wins.
    pub target: Vec<Matcher>,
    pub done: Done,
    /// The key is on screen at this step: offer to save it, and take the target's click as a copy.
    pub capture: bool,
    /// Shown prominently with the step: what goes wrong if the admin goes on carelessly.
    pub warning: Option<String>,
    /// Said when the page is recognized but this step's target is not there (what is missing, and why).
    pub missing: Option<String>,
    /// On a capture step: controls that leave the key behind (Close, Cancel); clicking one before the
    /// key is saved asks first.
    pub guard: Vec<Matcher>,
}

/// A piece of metadata the vault keeps with a captured key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldName {
    KeyName,
    Description,
    Account,
    Scopes,
    /// The account or organization the page says it is in, where several share a host
    /// (Predictive Index's Sandbox and Production): it names the key's tenant.
    Tenant,
}

/// How the content script reads a field's element.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Read {
    /// The value of a text field.
    Value,
    /// The labels of the checked boxes inside a group.
    Checked,
    /// The visible text.
    Text,
    /// The texts of the options or list items inside.
    Items,
}

/// Where on a page a piece of key metadata can be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    pub name: FieldName,
    pub read: Read,
    pub target: Vec<Matcher>,
}

/// One state of the vendor's app, recognized by URL and on-screen signals.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    pub id: String,
    /// A key is generated or shown here: the walkthrough appears by itself only on such pages
    /// (elsewhere only when the admin asked for it).
    pub key_page: bool,
    pub paths: Vec<Glob>,
    pub hashes: Vec<Glob>,
    /// Patterns over `path#fragment`: an app that routes by path in one revision and by fragment
    /// in another ("/t/PlanningSpace/generateApiKey", "/t/PlanningSpace/#/generateApiKey").
    pub routes: Vec<Glob>,
    /// Every one of these must be on screen.
    pub all: Vec<Matcher>,
    /// None of these may be on screen.
    pub none: Vec<Matcher>,
    /// One of these steps (of this recipe) was performed in this tab a short while ago: the admin
    /// really clicked its target.
    pub after: Vec<String>,
    pub steps: Vec<Step>,
    /// Key metadata readable on this page.
    pub fields: Vec<Field>,
}

/// Where a key's tenant is read from in the page URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TenantFrom {
    /// The host name (`acme.gotransverse.com`).
    Host,
    /// The first path segment (`https://server/ACME/...`).
    PathSegment,
    /// The host plus the organization the page names in its `tenant` field; when the page names
    /// none, the tenant is unknown and a new key replaces nothing.
    Page,
}

/// The vendor a recipe is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vendor {
    pub id: String,
    pub name: String,
    /// Fixed hosts; empty for a self-hosted product, whose servers the admin adds.
    pub hosts: Vec<HostPattern>,
    /// Hosts `hosts` covers that are not the app: nothing is recognized there.
    pub not_hosts: Vec<HostPattern>,
    /// Runs on customers' own servers: recognized only on servers the admin added for it.
    pub self_hosted: bool,
    pub tenant: TenantFrom,
    /// The page where keys are created, when the vendor has one fixed address.
    pub key_page_url: Option<String>,
    /// Self-hosted: the key page relative to a server's address (`PlanningSpace/#/generateApiKey`).
    pub server_key_page: Option<String>,
}

impl Vendor {
    /// The tenant a page URL belongs to, per this vendor's rule, with the `tenant` field the page
    /// showed (if any); None when the rule needs a field the page did not show.
    pub fn tenant_of(&self, location: &crate::engine::page::Location, named: Option<&str>) -> Option<String> {
        let named = named.map(str::trim).filter(|n| !n.is_empty());
        Some(match self.tenant {
            TenantFrom::Host => location.host.clone(),
            TenantFrom::Page => format!("{}/{}", location.host, named?),
            TenantFrom::PathSegment => {
                let segment = location.path.trim_start_matches('/').split('/').next().unwrap_or("");
                format!("{}/{}", location.host, segment)
            }
        })
    }
}

/// A validated recipe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recipe {
    pub vendor: Vendor,
    pub key: KeySpec,
    pub prerequisites: Vec<String>,
    /// The recipe's named word lists (already expanded into its phrases; kept for explanations).
    pub vocabulary: Vocabulary,
    pub pages: Vec<Page>,
}

impl Recipe {
    /// Parses and validates a recipe; `file` only labels errors.
    #[cfg(not(target_arch = "wasm32"))]
    pub fn parse(file: &str, source: &str) -> Result<Recipe, RecipeError> {
        let raw: RawRecipe = toml::from_str(source).map_err(|e| RecipeError {
            file: file.to_string(),
            field: String::new(),
            problem: e.to_string().trim().replace('\n', " "),
        })?;
        Recipe::checked(file, raw)
    }

    /// Reads a recipe in its JSON form (the TOML converted by `build.rs`), checked as [`Recipe::parse`] checks it.
    pub fn parse_json(file: &str, source: &str) -> Result<Recipe, RecipeError> {
        let raw: RawRecipe = serde_json::from_str(source).map_err(|e| RecipeError {
            file: file.to_string(),
            field: String::new(),
            problem: e.to_string(),
        })?;
        Recipe::checked(file, raw)
    }

    fn checked(file: &str, raw: RawRecipe) -> Result<Recipe, RecipeError> {
        let vocabulary = Vocabulary::new(&raw.words).map_err(|e| RecipeError {
            file: file.to_string(),
            field: "words".into(),
            problem: e.to_string(),
        })?;
        Checker { file, vocabulary }.recipe(raw)
    }

    /// Every step in walkthrough order, with the page it belongs to.
    pub fn steps(&self) -> impl Iterator<Item = (&Page, &Step)> {
        self.pages.iter().flat_map(|p| p.steps.iter().map(move |s| (p, s)))
    }

    /// The position (1-based) of a step in the whole walkthrough, and the number of steps.
    pub fn position(&self, step_id: &str) -> (usize, usize) {
        let total = self.steps().count();
        let at = self.steps().position(|(_, s)| s.id == step_id).map_or(0, |i| i + 1);
        (at, total)
    }

    pub fn serves(&self, host: &str) -> bool {
        self.vendor.hosts.iter().any(|h| h.matches(host)) && !self.vendor.not_hosts.iter().any(|h| h.matches(host))
    }
}

struct Checker<'a> {
    file: &'a str,
    vocabulary: Vocabulary,
}

type Checked<T> = Result<T, RecipeError>;

impl Checker<'_> {
    fn err<T>(&self, field: impl Into<String>, problem: impl Into<String>) -> Checked<T> {
        Err(RecipeError { file: self.file.to_string(), field: field.into(), problem: problem.into() })
    }

    fn id(&self, field: &str, id: &str) -> Checked<String> {
        let ok = !id.is_empty()
            && id.len() <= 40
            && id.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            && !id.starts_with('-');
        if ok {
            Ok(id.to_string())
        } else {
            self.err(field, format!("{id:?} is not an id (a-z, 0-9 and '-', at most 40)"))
        }
    }

    fn words(&self, field: &str, s: &str) -> Checked<String> {
        if s.trim().is_empty() {
            self.err(field, "must not be empty")
        } else {
            Ok(s.trim().to_string())
        }
    }

    fn recipe(&self, raw: RawRecipe) -> Checked<Recipe> {
        let vendor = self.vendor(raw.vendor)?;
        let key = self.key(raw.key)?;
        let prerequisites = raw
            .prerequisites
            .iter()
            .enumerate()
            .map(|(i, p)| self.words(&format!("prerequisites[{i}]"), p))
            .collect::<Checked<Vec<_>>>()?;
        if raw.page.is_empty() {
            return self.err("page", "a recipe needs at least one [[page]]");
        }
        let pages = raw
            .page
            .into_iter()
            .enumerate()
            .map(|(i, p)| self.page(&format!("page[{i}]"), p))
            .collect::<Checked<Vec<_>>>()?;
        let mut seen_pages = std::collections::HashSet::new();
        let mut seen_steps = std::collections::HashSet::new();
        for (i, page) in pages.iter().enumerate() {
            if !seen_pages.insert(page.id.as_str()) {
                return self.err(format!("page[{i}].id"), format!("{:?} is used twice", page.id));
            }
            for (j, step) in page.steps.iter().enumerate() {
                if !seen_steps.insert(step.id.as_str()) {
                    return self.err(format!("page[{i}].step[{j}].id"), format!("{:?} is used twice", step.id));
                }
            }
        }
        if !pages.iter().any(|p| p.key_page) {
            return self.err("page", "mark the pages where a key is generated or shown with key_page = true");
        }
        for (i, id) in key.generated_by.iter().enumerate() {
            if !seen_steps.contains(id.as_str()) {
                return self.err(format!("key.generated_by[{i}]"), format!("{id:?} is no step of this recipe"));
            }
        }
        for (i, page) in pages.iter().enumerate() {
            for (j, id) in page.after.iter().enumerate() {
                if !seen_steps.contains(id.as_str()) {
                    return self.err(format!("page[{i}].after[{j}]"), format!("{id:?} is no step of this recipe"));
                }
                if page.steps.iter().any(|s| s.id == *id) {
                    return self.err(format!("page[{i}].after[{j}]"), "a page cannot come after its own step");
                }
            }
        }
        let vocabulary = self.vocabulary.clone();
        Ok(Recipe { vendor, key, prerequisites, vocabulary, pages })
    }

    fn vendor(&self, raw: RawVendor) -> Checked<Vendor> {
        let id = self.id("vendor.id", &raw.id)?;
        let name = self.words("vendor.name", &raw.name)?;
        match (raw.self_hosted, raw.hosts.is_empty()) {
            (false, true) => return self.err("vendor.hosts", "list at least one host (or set self_hosted = true)"),
            (true, false) => {
                return self.err("vendor.hosts", "a self-hosted vendor lists no hosts: the admin adds servers")
            }
            _ => {}
        }
        let tenant = match raw.tenant.as_deref() {
            None | Some("host") => TenantFrom::Host,
            Some("path-segment") => TenantFrom::PathSegment,
            Some("page") => TenantFrom::Page,
            Some(other) => return self.err("vendor.tenant", format!("{other:?} is not host, path-segment or page")),
        };
        let hosts = raw
            .hosts
            .iter()
            .enumerate()
            .map(|(i, h)| self.host(&format!("vendor.hosts[{i}]"), h))
            .collect::<Checked<Vec<_>>>()?;
        let not_hosts = raw
            .not_hosts
            .iter()
            .enumerate()
            .map(|(i, h)| {
                let field = format!("vendor.not_hosts[{i}]");
                let pattern = self.host(&field, h)?;
                if !hosts.iter().any(|o| o.overlaps(&pattern)) {
                    return self.err(
                        field,
                        format!("{h:?} is not covered by vendor.hosts, so leaving it out changes nothing"),
                    );
                }
                Ok(pattern)
            })
            .collect::<Checked<Vec<_>>>()?;
        let key_page_url = match raw.key_page_url {
            None => None,
            Some(url) => Some(self.key_page_url(&url, &hosts)?),
        };
        let server_key_page = match raw.server_key_page {
            None => None,
            Some(page) => Some(self.server_key_page(&page, raw.self_hosted)?),
        };
        Ok(Vendor { id, name, hosts, not_hosts, self_hosted: raw.self_hosted, tenant, key_page_url, server_key_page })
    }

    /// A server's key page is a relative address (path, then fragment) of a self-hosted vendor:
    /// it is joined to the address the admin added, so it may not name a scheme, a host or `..`.
    fn server_key_page(&self, page: &str, self_hosted: bool) -> Checked<String> {
        const FIELD: &str = "vendor.server_key_page";
        if !self_hosted {
            return self
                .err(FIELD, "only a self-hosted vendor has servers (set self_hosted = true, or use key_page_url)");
        }
        let plain = page.chars().all(|c| c.is_ascii_alphanumeric() || "-._~/#!".contains(c));
        let (path, _) = page.split_once('#').unwrap_or((page, ""));
        if page.is_empty()
            || !plain
            || page.starts_with('/')
            || path.contains("//")
            || path.split('/').any(|s| s == "..")
        {
            return self.err(FIELD, format!("{page:?} is not a relative path such as \"App/#/keys\""));
        }
        Ok(page.to_string())
    }

    /// A key page must be an `https://` address on an exact host of the vendor's (so a self-hosted
    /// vendor, which has none, cannot name one).
    fn key_page_url(&self, url: &str, hosts: &[HostPattern]) -> Checked<String> {
        const FIELD: &str = "vendor.key_page_url";
        let Ok(location) = crate::engine::page::Location::parse(url) else {
            return self.err(FIELD, format!("{url:?} is not an https:// address"));
        };
        if !hosts.iter().any(|h| matches!(h, HostPattern::Exact(exact) if *exact == location.host)) {
            return self.err(FIELD, format!("{} is not one of the vendor's exact hosts", location.host));
        }
        Ok(url.to_string())
    }

    fn host(&self, field: &str, h: &str) -> Checked<HostPattern> {
        let (sub, name) = match h.strip_prefix("*.") {
            Some(rest) => (true, rest),
            None => (false, h),
        };
        let labels: Vec<&str> = name.split('.').collect();
        let ok = labels.len() >= 2
            && labels.iter().all(|l| {
                !l.is_empty()
                    && !l.starts_with('-')
                    && l.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            });
        match (ok, sub) {
            (false, _) => self.err(field, format!("{h:?} is not a lower-case host name (or *.domain)")),
            (true, true) => Ok(HostPattern::Subdomains(name.to_string())),
            (true, false) => Ok(HostPattern::Exact(name.to_string())),
        }
    }

    fn key(&self, raw: RawKey) -> Checked<KeySpec> {
        let label = self.words("key.label", &raw.label)?;
        let mut charset = Charset::default();
        for (i, c) in raw.charset.iter().enumerate() {
            match c.as_str() {
                "lower" => charset.lower = true,
                "upper" => charset.upper = true,
                "digit" => charset.digit = true,
                "alnum" => (charset.lower, charset.upper, charset.digit) = (true, true, true),
                "hex" => charset.hex = true,
                s if s.chars().count() == 1 && s.chars().all(|c| c.is_ascii_punctuation()) => {
                    charset.symbols.push_str(s)
                }
                other => {
                    return self.err(
                        format!("key.charset[{i}]"),
                        format!("{other:?} is not lower, upper, digit, alnum, hex or one punctuation character"),
                    )
                }
            }
        }
        if charset == Charset::default() {
            return self.err("key.charset", "must allow some characters");
        }
        if raw.min_len < 8 || raw.min_len > raw.max_len || raw.max_len > 512 {
            return self.err("key.min_len", "need 8 <= min_len <= max_len <= 512");
        }
        let format = match raw.format.as_deref() {
            None => None,
            Some("guid") => Some(KeyFormat::Guid),
            Some("hex") => Some(KeyFormat::Hex),
            Some(other) => return self.err("key.format", format!("{other:?} is not guid or hex")),
        };
        let check = raw.check.map(|c| self.check(c)).transpose()?;
        // Without its own context, a key is announced by what the vendor calls it.
        let written = if raw.context.is_empty() { vec![label.clone()] } else { raw.context };
        let context = self.phrases("key.context", &written)?;
        let generated_by = raw
            .generated_by
            .iter()
            .enumerate()
            .map(|(i, id)| self.id(&format!("key.generated_by[{i}]"), id))
            .collect::<Checked<Vec<_>>>()?;
        Ok(KeySpec {
            label,
            charset,
            min_len: raw.min_len,
            max_len: raw.max_len,
            format,
            check,
            replaces_previous: raw.replaces_previous,
            context,
            generated_by,
        })
    }

    fn check(&self, raw: RawCheck) -> Checked<KeyCheck> {
        if !matches!(raw.method.as_str(), "GET" | "HEAD") {
            return self.err("key.check.method", "only GET or HEAD: a check must not change anything");
        }
        if !raw.url.starts_with("https://") || raw.url.contains("{key}") {
            return self.err("key.check.url", "must be an https URL and must not carry the key");
        }
        // `{host}`, the tenant's own host, may stand for the whole host and nothing else.
        let rest = &raw.url["https://".len()..];
        let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        let braces = |s: &str| s.contains('{') || s.contains('}');
        if (braces(authority) && authority != "{host}") || braces(path) {
            return self
                .err("key.check.url", "only {host} (the tenant's own host, as the whole host) may be filled in");
        }
        if !raw.value.contains("{key}") {
            return self.err("key.check.value", "must place the key with {key}");
        }
        if raw.ok_status.is_empty() {
            return self.err("key.check.ok_status", "list the statuses that prove the key works");
        }
        let header = self.words("key.check.header", &raw.header)?;
        Ok(KeyCheck { method: raw.method, url: raw.url, header, value: raw.value, ok_status: raw.ok_status })
    }

    fn page(&self, at: &str, raw: RawPage) -> Checked<Page> {
        let id = self.id(&format!("{at}.id"), &raw.id)?;
        let globs = |name: &str, list: &[String]| -> Checked<Vec<Glob>> {
            list.iter()
                .enumerate()
                .map(|(i, g)| {
                    if g.is_empty() || g.chars().any(char::is_whitespace) {
                        self.err(format!("{at}.{name}[{i}]"), "must be a non-empty pattern without spaces")
                    } else {
                        Ok(Glob(g.to_ascii_lowercase()))
                    }
                })
                .collect()
        };
        let paths = globs("paths", &raw.paths)?;
        let hashes = globs("hashes", &raw.hashes)?;
        let routes = globs("routes", &raw.routes)?;
        let all = self.matchers(&format!("{at}.all"), raw.all)?;
        let none = self.matchers(&format!("{at}.none"), raw.none)?;
        let after = raw
            .after
            .iter()
            .enumerate()
            .map(|(i, id)| self.id(&format!("{at}.after[{i}]"), id))
            .collect::<Checked<Vec<_>>>()?;
        if paths.is_empty() && hashes.is_empty() && routes.is_empty() && all.is_empty() {
            return self.err(at, "a page needs paths, hashes, routes or `all` signals to be recognized by");
        }
        if raw.step.is_empty() {
            return self.err(format!("{at}.step"), "a page needs at least one [[page.step]]");
        }
        let steps = raw
            .step
            .into_iter()
            .enumerate()
            .map(|(i, s)| self.step(&format!("{at}.step[{i}]"), s))
            .collect::<Checked<Vec<_>>>()?;
        let fields = raw
            .field
            .into_iter()
            .enumerate()
            .map(|(i, f)| self.field(&format!("{at}.field[{i}]"), f))
            .collect::<Checked<Vec<_>>>()?;
        let shows_key = steps.iter().any(|s| s.capture) || all.iter().any(|m| m.secret);
        if shows_key && !raw.key_page {
            return self.err(
                format!("{at}.key_page"),
                "a page that shows a key (a capture step or a secret signal) is a key page",
            );
        }
        Ok(Page { id, key_page: raw.key_page, paths, hashes, routes, all, none, after, steps, fields })
    }

    fn word_enum<T: serde::de::DeserializeOwned>(&self, field: &str, value: &str, expected: &str) -> Checked<T> {
        serde_json::from_value(serde_json::Value::String(value.to_string()))
            .or_else(|_| self.err(field, format!("{value:?} is not {expected}")))
    }

    fn field(&self, at: &str, raw: RawField) -> Checked<Field> {
        let name: FieldName =
            self.word_enum(&format!("{at}.name"), &raw.name, "key_name, description, account, scopes or tenant")?;
        let read: Read = self.word_enum(&format!("{at}.read"), &raw.read, "value, checked, text or items")?;
        if raw.target.is_empty() {
            return self.err(format!("{at}.target"), "a field needs at least one target");
        }
        let target = self.matchers(&format!("{at}.target"), raw.target)?;
        Ok(Field { name, read, target })
    }

    fn step(&self, at: &str, raw: RawStep) -> Checked<Step> {
        let id = self.id(&format!("{at}.id"), &raw.id)?;
        let title = self.words(&format!("{at}.title"), &raw.title)?;
        let body = self.words(&format!("{at}.body"), &raw.body)?;
        let why = raw.why.map(|w| self.words(&format!("{at}.why"), &w)).transpose()?;
        if raw.target.is_empty() {
            return self.err(format!("{at}.target"), "a step needs at least one target");
        }
        let target = self.matchers(&format!("{at}.target"), raw.target)?;
        let done = match raw.done.as_deref() {
            None | Some("ack") => Done::Ack,
            Some("filled") => Done::Filled,
            Some("checked") => Done::Checked,
            Some(other) => return self.err(format!("{at}.done"), format!("{other:?} is not ack, filled or checked")),
        };
        let fits =
            |roles: &[Role]| target.iter().all(|m| !m.roles.is_empty() && m.roles.iter().all(|r| roles.contains(r)));
        if done == Done::Filled && !fits(&[Role::Textbox, Role::Combobox]) {
            return self.err(format!("{at}.done"), "\"filled\" needs every target to be a textbox or combobox");
        }
        if done == Done::Checked && !fits(&[Role::Checkbox, Role::Radio]) {
            return self.err(format!("{at}.done"), "\"checked\" needs every target to be a checkbox or radio");
        }
        let warning = raw.warning.map(|w| self.words(&format!("{at}.warning"), &w)).transpose()?;
        let missing = raw.missing.map(|m| self.words(&format!("{at}.missing"), &m)).transpose()?;
        if !raw.guard.is_empty() && !raw.capture {
            return self.err(format!("{at}.guard"), "only a capture step can guard against leaving the key behind");
        }
        let guard = self.matchers(&format!("{at}.guard"), raw.guard)?;
        Ok(Step { id, title, body, why, target, done, capture: raw.capture, warning, missing, guard })
    }

    fn matchers(&self, at: &str, raw: Vec<RawMatcher>) -> Checked<Vec<Matcher>> {
        raw.into_iter().enumerate().map(|(i, m)| self.matcher(&format!("{at}[{i}]"), m)).collect()
    }

    fn matcher(&self, at: &str, raw: RawMatcher) -> Checked<Matcher> {
        let roles = raw
            .role
            .iter()
            .enumerate()
            .map(|(i, r)| self.word_enum::<Role>(&format!("{at}.role[{i}]"), r, "a role the page model knows"))
            .collect::<Checked<Vec<_>>>()?;
        let text = self.phrases(&format!("{at}.text"), &raw.text)?;
        let label = self.phrases(&format!("{at}.label"), &raw.label)?;
        let mentions = self.phrases(&format!("{at}.mentions"), &raw.mentions)?;
        let near = self.phrases(&format!("{at}.near"), &raw.near)?;
        let icon = self.phrases(&format!("{at}.icon"), &raw.icon)?;
        let says_something = !(text.is_empty() && label.is_empty() && mentions.is_empty() && near.is_empty());
        if !says_something && icon.is_empty() && !raw.secret && roles.is_empty() && !raw.opens_menu {
            return self.err(at, "give at least one of role, text, label, mentions, near, icon, opens_menu or secret");
        }
        Ok(Matcher {
            roles,
            text,
            label,
            mentions,
            near,
            icon,
            opens_menu: raw.opens_menu,
            in_dialog: raw.in_dialog,
            secret: raw.secret,
        })
    }

    /// Written phrases expanded through the vocabulary and normalized, without repeats; `at`
    /// names the list in errors.
    fn phrases(&self, at: &str, list: &[String]) -> Checked<Vec<String>> {
        let mut out: Vec<String> = Vec::new();
        for (i, written) in list.iter().enumerate() {
            let expanded =
                self.vocabulary.expand(written).or_else(|e| self.err(format!("{at}[{i}]"), e.to_string()))?;
            if expanded.is_empty() {
                return self.err(format!("{at}[{i}]"), "has no words");
            }
            for phrase in expanded {
                if !out.contains(&phrase) {
                    out.push(phrase);
                }
            }
        }
        Ok(out)
    }
}

/// A customer server the admin added for a self-hosted vendor.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Server {
    pub vendor: String,
    /// Lower-case host name, no port.
    pub host: String,
    /// The address the admin gave, cut where the vendor's own pages start
    /// (`https://ps.acme.com/ACME`); empty when only the host is known.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub address: String,
}

/// A self-hosted vendor's key page on one server the admin added.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ServerKeyPage {
    /// The server as the admin reads it (`ps.acme.com/ACME`).
    pub server: String,
    pub url: String,
}

/// `url`'s `https://` origin and path, the path cut before the segment where `key_page` starts
/// (so that a pasted key page or a deeper page gives the server's address), without a trailing
/// slash; None when `url` is no https address of `host` or its path holds unusual characters.
fn server_address(url: &str, host: &str, key_page: Option<&str>) -> Option<String> {
    let location = crate::engine::page::Location::parse(url).ok()?;
    if location.host != host {
        return None;
    }
    let rest = &url["https://".len()..];
    let authority = rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())].to_ascii_lowercase();
    let plain = |c: char| c.is_ascii_alphanumeric() || "-._~%".contains(c);
    let mut path = String::new();
    let first = key_page.and_then(|k| k.split(['/', '#']).next()).filter(|f| !f.is_empty());
    for segment in location.path.split('/').filter(|s| !s.is_empty()) {
        if first.is_some_and(|f| f.eq_ignore_ascii_case(segment)) || segment.starts_with('#') {
            break;
        }
        if segment == ".." || segment == "." || !segment.chars().all(plain) {
            return Some(format!("https://{authority}"));
        }
        path.push('/');
        path.push_str(segment);
    }
    Some(format!("https://{authority}{path}"))
}

/// Why a server could not be added.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerError {
    NotSelfHosted(String),
    BadHost(String),
    TakenByVendor(String),
    /// Not an `https://` address.
    BadAddress,
}

impl fmt::Display for ServerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ServerError::NotSelfHosted(v) => write!(f, "{v} is not a self-hosted product"),
            ServerError::BadHost(h) => write!(f, "{h:?} is not a server host name"),
            ServerError::TakenByVendor(v) => write!(f, "that host belongs to {v}"),
            ServerError::BadAddress => write!(f, "the server's address is not an https:// address"),
        }
    }
}

/// Every recipe shipped with the extension, validated together, plus the servers the admin added.
impl ServerError {
    /// The refusal in the admin's words.
    pub fn words(&self) -> Words {
        match self {
            ServerError::NotSelfHosted(v) => words!("errServerNotSelfHosted", v),
            ServerError::BadHost(h) => words!("errServerBadHost", h),
            ServerError::TakenByVendor(v) => words!("errServerTaken", v),
            ServerError::BadAddress => words!("errServerAddress"),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Catalog {
    pub recipes: Vec<Recipe>,
    pub servers: Vec<Server>,
}

impl Catalog {
    /// Loads the recipes embedded at build time from `vendors/`: their JSON form in the extension,
    /// the TOML itself natively (where error messages point into the file).
    pub fn builtin() -> Result<Catalog, RecipeError> {
        #[cfg(target_arch = "wasm32")]
        return Catalog::builtin_json();
        #[cfg(not(target_arch = "wasm32"))]
        Catalog::from_sources(BUILTIN)
    }

    /// The embedded recipes read from their JSON form, as the extension reads them.
    pub fn builtin_json() -> Result<Catalog, RecipeError> {
        let recipes = BUILTIN_JSON.iter().map(|(f, s)| Recipe::parse_json(f, s)).collect::<Result<Vec<_>, _>>()?;
        Catalog::checked(BUILTIN_JSON, recipes)
    }

    /// Loads recipes from (file name, TOML text) pairs and checks that vendors do not overlap.
    #[cfg(not(target_arch = "wasm32"))]
    pub fn from_sources(sources: &[(&str, &str)]) -> Result<Catalog, RecipeError> {
        let recipes = sources.iter().map(|(f, s)| Recipe::parse(f, s)).collect::<Result<Vec<_>, _>>()?;
        Catalog::checked(sources, recipes)
    }

    /// Checks that the vendors of `recipes` (read from `sources`) do not overlap.
    fn checked(sources: &[(&str, &str)], recipes: Vec<Recipe>) -> Result<Catalog, RecipeError> {
        for (i, a) in recipes.iter().enumerate() {
            for b in &recipes[..i] {
                let clash = |field: &str, what: String| {
                    Err(RecipeError { file: sources[i].0.to_string(), field: field.into(), problem: what })
                };
                if a.vendor.id == b.vendor.id {
                    return clash("vendor.id", format!("{:?} is also used by another recipe", a.vendor.id));
                }
                if let Some(h) = a.vendor.hosts.iter().find(|h| b.vendor.hosts.iter().any(|o| o.overlaps(h))) {
                    return clash("vendor.hosts", format!("{h:?} is also claimed by {}", b.vendor.id));
                }
            }
        }
        Ok(Catalog { recipes, servers: Vec::new() })
    }

    pub fn vendor(&self, id: &str) -> Option<&Recipe> {
        self.recipes.iter().find(|r| r.vendor.id == id)
    }

    /// The recipe whose hosts include `host`, or the self-hosted vendor the admin added it for.
    pub fn for_host(&self, host: &str) -> Option<&Recipe> {
        self.recipes.iter().find(|r| r.serves(host)).or_else(|| {
            let server = self.servers.iter().find(|s| s.host == host)?;
            self.recipes.iter().find(|r| r.vendor.self_hosted && r.vendor.id == server.vendor)
        })
    }

    /// Adds (or re-assigns) a server for a self-hosted vendor.
    pub fn add_server(&mut self, vendor: &str, host: &str) -> Result<Server, ServerError> {
        let host = host.to_ascii_lowercase();
        let recipe = self
            .vendor(vendor)
            .filter(|r| r.vendor.self_hosted)
            .ok_or_else(|| ServerError::NotSelfHosted(vendor.into()))?;
        let labels_ok = host.split('.').count() >= 2
            && host.split('.').all(|l| {
                !l.is_empty() && !l.starts_with('-') && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            });
        if !labels_ok {
            return Err(ServerError::BadHost(host));
        }
        if let Some(owner) = self.recipes.iter().find(|r| r.serves(&host)) {
            return Err(ServerError::TakenByVendor(owner.vendor.name.clone()));
        }
        let server = Server { vendor: recipe.vendor.id.clone(), host, address: String::new() };
        self.servers.retain(|s| s.host != server.host);
        self.servers.push(server.clone());
        Ok(server)
    }

    /// Adds (or re-assigns) the server at `url` (an `https://` address on it, such as the tenant's
    /// home or the key page itself) for a self-hosted vendor, keeping its address for links.
    pub fn add_server_at(&mut self, vendor: &str, url: &str) -> Result<Server, ServerError> {
        let host = crate::engine::page::Location::parse(url).map_err(|_| ServerError::BadAddress)?.host;
        let server = self.add_server(vendor, &host)?;
        let key_page = self.vendor(vendor).and_then(|r| r.vendor.server_key_page.clone());
        let address = server_address(url, &server.host, key_page.as_deref()).unwrap_or_default();
        let kept = self.servers.iter_mut().find(|s| s.host == server.host).expect("just added");
        kept.address = address;
        Ok(kept.clone())
    }

    /// The key pages of `vendor` on the servers the admin added for it, in the order added.
    pub fn server_key_pages(&self, vendor: &str) -> Vec<ServerKeyPage> {
        let Some(page) = self.vendor(vendor).and_then(|r| r.vendor.server_key_page.as_deref()) else {
            return Vec::new();
        };
        self.servers
            .iter()
            .filter(|s| s.vendor == vendor)
            .map(|s| {
                let address = if s.address.is_empty() { format!("https://{}", s.host) } else { s.address.clone() };
                let server = address.trim_start_matches("https://").to_string();
                ServerKeyPage { server, url: format!("{address}/{page}") }
            })
            .collect()
    }

    pub fn remove_server(&mut self, host: &str) -> bool {
        let before = self.servers.len();
        self.servers.retain(|s| s.host != host);
        self.servers.len() != before
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subdomain_pattern_needs_a_real_subdomain() {
        let p = HostPattern::Subdomains("gotransverse.com".into());
        assert!(p.matches("partners.gotransverse.com"));
        assert!(!p.matches("gotransverse.com"));
        assert!(!p.matches("evilgotransverse.com"));
        assert!(!p.matches("partners.gotransverse.com.evil.test"));
    }

    #[test]
    fn glob_matches_whole_string() {
        let g = Glob("/tokens*".into());
        assert!(g.matches("/tokens"));
        assert!(g.matches("/Tokens/new"));
        assert!(!g.matches("/x/tokens"));
        assert!(Glob("*/planningspace/".into()).matches("/acme/PlanningSpace/"));
    }

    #[test]
    fn key_spec_checks_shape_and_string_alike() {
        let spec = KeySpec {
            label: "token".into(),
            charset: Charset { lower: true, upper: true, digit: true, hex: false, symbols: "-_".into() },
            min_len: 20,
            max_len: 64,
            format: None,
            check: None,
            replaces_previous: false,
            context: vec!["token".into()],
            generated_by: Vec::new(),
        };
        assert!(spec.accepts("aB3_-aB3_-aB3_-aB3_-x"));
        assert!(!spec.accepts("short"));
        assert!(!spec.accepts("has space in it and is long enough"));
        let shape = SecretShape { len: 40, lower: true, digit: true, symbols: "_".into(), ..SecretShape::default() };
        assert!(spec.fits_shape(&shape));
        assert!(!spec.fits_shape(&SecretShape { symbols: "+/".into(), ..shape.clone() }));
    }

    #[test]
    fn guid_format_is_strict() {
        assert!(is_guid("0f8fad5b-d9cb-469f-a165-70867728950e"));
        assert!(!is_guid("0f8fad5b-d9cb-469f-a165-70867728950"));
        assert!(!is_guid("0f8fad5bd9cb469fa16570867728950e"));
    }
}
