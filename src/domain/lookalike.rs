//! Values that do not match but look as if they should: what the near-duplicate lint groups by,
//! and how it says what differs. Matching itself stays exact and case-sensitive; only the
//! findings use this.
//!
//! A family is the values with the same key: normalized (NFKC), every Unicode space made a plain
//! space and the ends trimmed, and reduced to its confusables skeleton (UTS #39), caselessly.
//! The key is one string per value and families are found by hashing it, so the lint stays
//! linear in the number of values (it runs on every edit, over thousands of them); what differs
//! is worked out only inside the rare families of two or more.

use std::borrow::Cow;

use unicode_normalization::UnicodeNormalization;

use super::text::{is_unicode_space, quoted};

/// NFKC, but spaces kept as they are, so that folding them is a difference of its own.
fn compatible(v: &str) -> Cow<'_, str> {
    if v.is_ascii() {
        return Cow::Borrowed(v);
    }
    let mut out = String::with_capacity(v.len());
    let mut run = String::new();
    for c in v.chars() {
        if c.is_whitespace() {
            out.extend(run.nfkc());
            run.clear();
            out.push(c);
        } else {
            run.push(c);
        }
    }
    out.extend(run.nfkc());
    Cow::Owned(out)
}

/// Every space a plain one, the ends trimmed.
fn spaced(v: &str) -> Cow<'_, str> {
    if !v.chars().any(is_unicode_space) {
        return Cow::Borrowed(v.trim_matches(|c: char| c.is_ascii_whitespace()));
    }
    let folded: String = v.chars().map(|c| if is_unicode_space(c) { ' ' } else { c }).collect();
    Cow::Owned(folded.trim_matches(|c: char| c.is_ascii_whitespace()).to_owned())
}

fn skeleton(v: &str) -> String {
    unicode_security::skeleton(v).collect()
}

/// The skeleton, caselessly. Skeletons are not case-blind (`m` becomes `rn`, `M` stays), and
/// lowercasing alone loses `I` looking like `l`: so skeleton, lowercase, and again.
fn caseless_skeleton(v: &str) -> String {
    skeleton(&skeleton(v).to_lowercase()).to_lowercase()
}

/// The family key (see the module's comment).
pub fn family_key(v: &str) -> String {
    if v.is_ascii() {
        return ascii_family_key(v);
    }
    caseless_skeleton(&spaced(&compatible(v)))
}

/// The same for ASCII, which most values are, by table: ASCII needs no normalizing, its
/// skeleton is each character's prototype in turn, and lowercasing goes character by character.
fn ascii_family_key(v: &str) -> String {
    static TABLE: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    let table = TABLE.get_or_init(|| (0u8..128).map(|b| caseless_skeleton(&char::from(b).to_string())).collect());
    let v = v.trim_matches(|c: char| c.is_ascii_whitespace());
    let mut out = String::with_capacity(v.len() + 4);
    for b in v.bytes() {
        out.push_str(&table[b as usize]);
    }
    out
}

/// A family of two or more of a snapshot's values, with what the finding says about it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Family {
    pub key: String,
    /// Indices into the snapshot's values, in their order.
    pub values: Vec<u32>,
    /// `describe` of the values.
    pub message: String,
}

/// The families among a snapshot's values: its values are fixed, so this is worked out once
/// per snapshot (`Snapshot::value_families`), not on every plan.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Families {
    /// Every value's key, and the values (indices, in order) that have it.
    by_key: super::FastMap<String, Vec<u32>>,
    /// The families of two or more, sorted by key.
    multi: Vec<Family>,
}

impl Families {
    pub fn new(values: &[String]) -> Families {
        let mut by_key: super::FastMap<String, Vec<u32>> =
            super::FastMap::with_capacity_and_hasher(values.len(), Default::default());
        for (i, v) in values.iter().enumerate() {
            by_key.entry(family_key(v)).or_default().push(i as u32);
        }
        let mut multi: Vec<Family> = by_key
            .iter()
            .filter(|(_, f)| f.len() > 1)
            .map(|(key, f)| {
                let fam: Vec<&str> = f.iter().map(|&i| values[i as usize].as_str()).collect();
                Family { key: key.clone(), values: f.clone(), message: describe(&fam) }
            })
            .collect();
        multi.sort_unstable_by(|a, b| a.key.cmp(&b.key));
        Families { by_key, multi }
    }

    /// The families of two or more, sorted by key.
    pub fn multi(&self) -> &[Family] {
        &self.multi
    }

    /// The values (indices) with this key.
    pub fn with_key(&self, key: &str) -> &[u32] {
        self.by_key.get(key).map_or(&[], Vec::as_slice)
    }
}

/// The kinds of difference a family's values have, in the order they are told.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Differences {
    normalization: bool,
    /// The Unicode spaces involved (sorted, distinct).
    unicode_spaces: Vec<char>,
    surrounding: bool,
    case: bool,
    /// The first pair that only looks alike: (char in one value, value, char in the other, other).
    look_alike: Option<(Option<char>, String, Option<char>, String)>,
}

/// What a family of near-duplicates has in common and how its values differ, as a sentence.
pub fn describe(family: &[&str]) -> String {
    let list: Vec<String> = family.iter().map(|v| quoted(v)).collect();
    let list = list.join(", ");
    let d = differences(family);
    let words = difference_words(&d);
    let visible_only = !d.normalization && d.unicode_spaces.is_empty();
    if let Some((a, va, b, vb)) = &d.look_alike {
        let char_in = |c: &Option<char>| c.map_or_else(|| "nothing".to_owned(), char_name);
        let also = if words.is_empty() { String::new() } else { format!("; they also differ by {}", and_list(&words)) };
        let (a, va, b, vb) = (char_in(a), quoted(va), char_in(b), quoted(vb));
        return format!("{list} look alike: {a} in {va} where {vb} has {b}{also} (matching is exact)");
    }
    if visible_only {
        // As it always said, for the differences everyone can see.
        return format!("{list} differ only by case or surrounding whitespace (matching is exact)");
    }
    format!("{list} differ only by {} (matching is exact)", and_list(&words))
}

/// How one value of a family differs from another, for the status line of its row:
/// `differs from "Marketing" only by a trailing space`.
pub fn how_differs(value: &str, other: &str) -> String {
    let d = differences(&[other, value]);
    let mut words = difference_words(&d);
    // Surrounding whitespace is said exactly: which end, and how much.
    if d.surrounding
        && let Some(w) = words.iter_mut().find(|w| *w == "surrounding whitespace")
    {
        *w = ends(value, other);
    }
    if let Some((a, va, b, vb)) = &d.look_alike {
        let char_in = |c: &Option<char>| c.map_or_else(|| "nothing".to_owned(), char_name);
        let also = if words.is_empty() { String::new() } else { format!("; also by {}", and_list(&words)) };
        return format!(
            "looks like {}: {} in {} where {} has {}{also}",
            quoted(other),
            char_in(a),
            quoted(va),
            quoted(vb),
            char_in(b)
        );
    }
    format!("differs from {} only by {}", quoted(other), and_list(&words))
}

/// Which ends' spaces set `value` apart from `other`: "a trailing space", "2 leading spaces".
fn ends(value: &str, other: &str) -> String {
    let count = |v: &str, lead: bool| {
        let trimmed = if lead { v.trim_start() } else { v.trim_end() };
        v.chars().count() - trimmed.chars().count()
    };
    let said = |n: usize, end: &str| match n {
        0 => None,
        1 => Some(format!("a {end} space")),
        n => Some(format!("{n} {end} spaces")),
    };
    let lead = said(count(value, true).abs_diff(count(other, true)), "leading");
    let trail = said(count(value, false).abs_diff(count(other, false)), "trailing");
    let parts: Vec<String> = lead.into_iter().chain(trail).collect();
    if parts.is_empty() { "surrounding whitespace".into() } else { parts.join(" and ") }
}

/// The differences of a family in words, in the order they are told (look-alikes aside).
fn difference_words(d: &Differences) -> Vec<String> {
    let mut words: Vec<String> = Vec::new();
    if d.normalization {
        words.push("Unicode normalization".into());
    }
    match d.unicode_spaces.as_slice() {
        [] => {}
        ['\u{a0}'] => words.push("a non-breaking space".into()),
        spaces => {
            let names: Vec<String> = spaces.iter().map(|&c| char_name(c)).collect();
            words.push(format!("Unicode spaces ({})", names.join(", ")));
        }
    }
    if d.surrounding {
        words.push("surrounding whitespace".into());
    }
    if d.case {
        words.push("case".into());
    }
    words
}

fn and_list(words: &[String]) -> String {
    match words {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// `U+0430 CYRILLIC SMALL LETTER A`.
pub fn char_name(c: char) -> String {
    match unicode_names2::name(c) {
        Some(name) => format!("U+{:04X} {name}", c as u32),
        None => format!("U+{:04X}", c as u32),
    }
}

/// How the family's values differ from its first one. Each other value is compared with the
/// first only, so a family costs time linear in its size.
fn differences(family: &[&str]) -> Differences {
    let mut d = Differences::default();
    let Some((first, rest)) = family.split_first() else { return d };
    for v in rest {
        pair(&mut d, first, v);
    }
    d.unicode_spaces.sort_unstable();
    d.unicode_spaces.dedup();
    d
}

/// How spaces are treated while comparing two values.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Spaces {
    Trimmed,
    Folded,
    FoldedAndTrimmed,
}

fn with_spaces(v: &str, how: Spaces) -> Cow<'_, str> {
    let ascii_trim = |v: &str| v.trim_matches(|c: char| c.is_ascii_whitespace()).to_owned();
    match how {
        Spaces::Trimmed => Cow::Owned(ascii_trim(v)),
        Spaces::Folded => Cow::Owned(v.chars().map(|c| if is_unicode_space(c) { ' ' } else { c }).collect()),
        Spaces::FoldedAndTrimmed => spaced(v),
    }
}

/// Adds what differs between `a` and `b` (of one family). A step counts when leaving it out,
/// and only it, keeps the two apart: a step both values went through alike does not count.
fn pair(d: &mut Differences, a: &str, b: &str) {
    let fold = |v: &str, normalize: bool, spaces: Spaces, case: bool| -> String {
        let v = if normalize { compatible(v) } else { Cow::Borrowed(v) };
        let v = with_spaces(&v, spaces).into_owned();
        if case { v.to_lowercase() } else { v }
    };
    let apart = |normalize: bool, spaces: Spaces, case: bool| {
        fold(a, normalize, spaces, case) != fold(b, normalize, spaces, case)
    };
    if apart(true, Spaces::FoldedAndTrimmed, true) {
        // Only the skeleton brings them together: they look alike.
        if d.look_alike.is_none() {
            d.look_alike = Some(first_look_alike(a, b));
        }
        let case_apart = |v: &str| skeleton(&fold(v, true, Spaces::FoldedAndTrimmed, false));
        d.case |= case_apart(a) != case_apart(b);
        return;
    }
    d.normalization |= apart(false, Spaces::FoldedAndTrimmed, true);
    // A Unicode space at an end is told as such, not as surrounding whitespace too.
    if apart(true, Spaces::Trimmed, true) {
        d.unicode_spaces.extend(a.chars().chain(b.chars()).filter(|&c| is_unicode_space(c)));
    } else if apart(true, Spaces::Folded, true) {
        d.surrounding = true;
    }
    d.case |= apart(true, Spaces::FoldedAndTrimmed, false);
}

/// The first characters where two look-alike values differ (ignoring case, after normalizing
/// and folding spaces), the suspicious value first: the one further from ASCII.
fn first_look_alike(a: &str, b: &str) -> (Option<char>, String, Option<char>, String) {
    let non_ascii = |v: &str| v.chars().filter(|c| !c.is_ascii()).count();
    let (a, b) = if non_ascii(a) >= non_ascii(b) { (a, b) } else { (b, a) };
    let (fa, fb) = (spaced(&compatible(a)).into_owned(), spaced(&compatible(b)).into_owned());
    let (mut ca, mut cb) = (fa.chars(), fb.chars());
    loop {
        match (ca.next(), cb.next()) {
            (Some(x), Some(y)) if x.to_lowercase().eq(y.to_lowercase()) => {}
            (None, None) => return (None, a.to_owned(), None, b.to_owned()),
            (x, y) => return (x, a.to_owned(), y, b.to_owned()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn same_family(a: &str, b: &str) -> bool {
        family_key(a) == family_key(b)
    }

    #[test]
    fn keys_fold_normalization_spaces_case_and_look_alikes_but_not_real_differences() {
        assert!(same_family("Caf\u{e9} Team", "Cafe\u{301} Team"));
        assert!(same_family("Marketing\u{a0}", "Marketing"));
        assert!(same_family("Sales\u{3000}EMEA", "Sales EMEA"));
        assert!(same_family("S\u{430}les", "Sales"));
        assert!(same_family("\u{ff33}ales", "sales"), "full-width");
        assert!(same_family("SALES EMEA", "sales emea"), "m is rn, M is M: still one family");
        assert!(same_family("Team I", "Team l"));
        assert!(!same_family("Sales", "Sales EMEA"));
        assert!(!same_family("Sales NA", "Sales EU"));
    }

    #[test]
    fn the_ascii_table_gives_the_general_key() {
        let all: String = (0u8..128).map(char::from).collect();
        for v in [all.as_str(), " Sales EMEA ", "rn m I l 1 0 O |", "\tTeam\n"] {
            let general = caseless_skeleton(&spaced(&compatible(v)));
            assert_eq!(family_key(v), general, "{v:?}");
        }
    }

    #[test]
    fn one_value_is_told_how_it_differs_from_another() {
        assert_eq!(how_differs("Marketing ", "Marketing"), "differs from \"Marketing\" only by a trailing space");
        assert_eq!(how_differs("Marketing", "Marketing "), "differs from \"Marketing \" only by a trailing space");
        assert_eq!(how_differs("  sales", "Sales"), "differs from \"Sales\" only by 2 leading spaces and case");
        assert_eq!(
            how_differs("Marketing\u{a0}", "Marketing"),
            "differs from \"Marketing\" only by a non-breaking space"
        );
        assert_eq!(
            how_differs("S\u{430}les", "Sales"),
            "looks like \"Sales\": U+0430 CYRILLIC SMALL LETTER A in \"S\u{430}les\" where \"Sales\" has U+0061 \
             LATIN SMALL LETTER A"
        );
    }

    #[test]
    fn each_kind_of_difference_is_named() {
        assert_eq!(
            describe(&["Caf\u{e9} Team", "Cafe\u{301} Team"]),
            "\"Caf\u{e9} Team\", \"Cafe\u{301} Team\" differ only by Unicode normalization (matching is exact)"
        );
        assert_eq!(
            describe(&["Marketing", "Marketing\u{a0}"]),
            "\"Marketing\", \"Marketing\\u{a0}\" differ only by a non-breaking space (matching is exact)"
        );
        assert_eq!(
            describe(&["Sales EMEA", "sales emea "]),
            "\"Sales EMEA\", \"sales emea \" differ only by case or surrounding whitespace (matching is exact)"
        );
        assert_eq!(
            describe(&["Sales", "S\u{430}les"]),
            "\"Sales\", \"S\u{430}les\" look alike: U+0430 CYRILLIC SMALL LETTER A in \"S\u{430}les\" where \
             \"Sales\" has U+0061 LATIN SMALL LETTER A (matching is exact)"
        );
        assert_eq!(
            describe(&["SALES", "S\u{430}les"]),
            "\"SALES\", \"S\u{430}les\" look alike: U+0430 CYRILLIC SMALL LETTER A in \"S\u{430}les\" where \
             \"SALES\" has U+0041 LATIN CAPITAL LETTER A; they also differ by case (matching is exact)"
        );
        assert_eq!(
            describe(&["Ops", "ops", "Ops\u{2009}"]),
            "\"Ops\", \"ops\", \"Ops\\u{2009}\" differ only by Unicode spaces (U+2009 THIN SPACE) and case \
             (matching is exact)"
        );
    }
}
