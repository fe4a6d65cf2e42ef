//! Filtering a list as the admin types: fuzzy (nucleo's matcher, the one helix uses) or by
//! case-insensitive substring. Both return the matching item indices and accept the previous
//! result to narrow from when the new pattern extends the old one. Long lists are split over
//! the machine's cores (benches/perf.rs: ~100,000 strings per keystroke).

use std::sync::OnceLock;

use nucleo_matcher::pattern::{Atom, AtomKind, CaseMatching, Normalization};
use nucleo_matcher::{Config, Matcher, Utf32Str};

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Filtered {
    /// Item indices, best match first; None means "all, in order" (nothing materialised).
    pub items: Option<Vec<u32>>,
    /// Matches left out because much better ones exist (see `RANK_FLOOR`): a longer pattern
    /// may still match them, so narrowing searches them too.
    pub weak: Vec<u32>,
}

impl Filtered {
    /// What a pattern extending this one's needs to search: every match, the weak ones too.
    pub fn narrowing(&self) -> Option<Vec<u32>> {
        let items = self.items.as_ref()?;
        Some(items.iter().chain(&self.weak).copied().collect())
    }

    pub fn len(&self, total: usize) -> usize {
        self.items.as_ref().map_or(total, Vec::len)
    }

    pub fn get(&self, pos: usize) -> Option<usize> {
        match &self.items {
            None => Some(pos),
            Some(v) => v.get(pos).map(|i| *i as usize),
        }
    }

    pub fn position_of(&self, item: usize) -> Option<usize> {
        match &self.items {
            None => Some(item),
            Some(v) => v.iter().position(|i| *i as usize == item),
        }
    }
}

/// Below this many candidates one thread is quicker than starting more.
const PARALLEL_FROM: usize = 16_384;

fn threads() -> usize {
    static N: OnceLock<usize> = OnceLock::new();
    *N.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get()).min(8))
}

/// Runs `keep` over the candidates (`narrow`, else `0..total`), on several threads when there
/// are many, and returns what it kept in candidate order. `state` makes each thread's scratch.
/// Asked now and then during a pass: true when its result is no longer wanted (a newer pattern
/// was typed), so that the pass stops instead of finishing for nothing.
pub type Stop<'a> = &'a (dyn Fn() -> bool + Sync);

/// How many items a pass checks between asking whether to stop.
const STOP_EVERY: usize = 4096;

fn par_keep<S, T: Send>(
    total: usize,
    narrow: Option<&[u32]>,
    state: impl Fn() -> S + Sync,
    keep: impl Fn(&mut S, u32) -> Option<T> + Sync,
    stop: Stop<'_>,
) -> Option<Vec<T>> {
    let n = narrow.map_or(total, <[u32]>::len);
    let at = |k: usize| narrow.map_or(k as u32, |v| v[k]);
    let run = |range: std::ops::Range<usize>| {
        let mut s = state();
        let mut out = Vec::new();
        for k in range {
            if k % STOP_EVERY == 0 && stop() {
                return None;
            }
            out.extend(keep(&mut s, at(k)));
        }
        Some(out)
    };
    let threads = threads();
    if n < PARALLEL_FROM || threads < 2 {
        return run(0..n);
    }
    let chunk = n.div_ceil(threads);
    std::thread::scope(|scope| {
        let run = &run;
        let handles: Vec<_> =
            (0..threads).map(|t| scope.spawn(move || run(t * chunk..((t + 1) * chunk).min(n)))).collect();
        let mut out = Vec::new();
        for h in handles {
            out.extend(h.join().expect("filter thread")?);
        }
        Some(out)
    })
}

fn atom(pattern: &str) -> Atom {
    // One fuzzy atom, taken literally (no fzf syntax: spaces, ^, $, ! are characters to find),
    // so that a longer pattern only ever matches a subset: narrowing stays exact.
    Atom::new(pattern, CaseMatching::Ignore, Normalization::Smart, AtomKind::Fuzzy, false)
}

/// Filters `items` by `pattern`, fuzzily, best match first (ties in list order). `narrow` may
/// hold the previous result for a shorter pattern this one extends: only those are searched.
pub fn filter<'a>(
    items: impl Fn(usize) -> &'a str + Sync,
    total: usize,
    pattern: &str,
    narrow: Option<&[u32]>,
) -> Filtered {
    filter_until(items, total, pattern, narrow, &|| false).expect("never stopped")
}

/// As `filter`, None when `stop` said to stop first.
pub fn filter_until<'a>(
    items: impl Fn(usize) -> &'a str + Sync,
    total: usize,
    pattern: &str,
    narrow: Option<&[u32]>,
    stop: Stop<'_>,
) -> Option<Filtered> {
    if pattern.is_empty() {
        return Some(Filtered::default());
    }
    let atom = atom(pattern);
    let in_order = pattern.is_ascii().then(|| pattern.to_ascii_lowercase().into_bytes());
    let mut scored: Vec<(u16, u32)> = par_keep(
        total,
        narrow,
        || (Matcher::new(ranking()), Vec::new()),
        |(matcher, buf), i| {
            let text = items(i as usize);
            // The matcher copies a non-ASCII text into UTF-32 before it can reject it; most
            // texts hold no match, and this finds that on the UTF-8 (an ASCII text it rejects
            // quickly itself).
            if let Some(needle) = &in_order
                && !text.is_ascii()
                && !folded_in_order(text, needle)
            {
                return None;
            }
            atom.score(Utf32Str::new(text, buf), matcher).map(|s| (s, i))
        },
        stop,
    )?;
    scored.sort_unstable_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    // Weak matches (letters scattered through a word: `eng` in "Marketing") are dropped when
    // good ones exist (`eng` at the start of "Engineering", "eng-mobile").
    let floor = scored.first().map_or(0, |&(best, _)| (u32::from(best) * RANK_FLOOR.0 / RANK_FLOOR.1) as u16);
    let strong = scored.partition_point(|&(s, _)| s >= floor);
    let weak = scored.split_off(strong).into_iter().map(|(_, i)| i).collect();
    Some(Filtered { items: Some(scored.into_iter().map(|(_, i)| i).collect()), weak })
}

/// The matcher's scoring: a match nearer the start ranks higher ("Marketing" before "Growth
/// Marketing" for `mar`).
fn ranking() -> Config {
    let mut c = Config::DEFAULT;
    c.prefer_prefix = true;
    c
}

/// A match scoring below this fraction of the best one is left out.
pub const RANK_FLOOR: (u32, u32) = (2, 3);

/// Filters the items to those containing `needle`, ignoring case (Unicode lowercase), in list
/// order; `items(i, out)` appends the i-th one's text to `out` (a line may be made only to be
/// searched). `narrow` as for `filter`.
pub fn substring(
    items: impl Fn(usize, &mut String) + Sync,
    total: usize,
    needle: &str,
    narrow: Option<&[u32]>,
) -> Filtered {
    substring_until(items, total, needle, narrow, &|| false).expect("never stopped")
}

/// As `substring`, None when `stop` said to stop first.
pub fn substring_until(
    items: impl Fn(usize, &mut String) + Sync,
    total: usize,
    needle: &str,
    narrow: Option<&[u32]>,
    stop: Stop<'_>,
) -> Option<Filtered> {
    let order: Vec<u32> = (0..total as u32).collect();
    substring_visiting_until(items, &order, needle, narrow, stop)
}

/// As `substring_until`, visiting the items in `order` (a permutation of the item indices, the
/// order what they are made of lies in memory: far quicker than jumping about); the result is
/// in list order all the same.
pub fn substring_visiting_until(
    items: impl Fn(usize, &mut String) + Sync,
    order: &[u32],
    needle: &str,
    narrow: Option<&[u32]>,
    stop: Stop<'_>,
) -> Option<Filtered> {
    if needle.is_empty() {
        return Some(Filtered::default());
    }
    let total = order.len();
    let candidates = narrow.map(|v| Bits::of(total, v));
    let needle = Needle::new(needle);
    let kept = par_keep(
        total,
        Some(order),
        String::new,
        |text, i| {
            if candidates.as_ref().is_some_and(|c| !c.has(i)) {
                return None;
            }
            text.clear();
            items(i as usize, text);
            needle.is_in(text).then_some(i)
        },
        stop,
    )?;
    Some(Filtered { items: Some(Bits::of(total, &kept).ones().collect()), weak: Vec::new() })
}

/// A set of item indices, one bit each.
struct Bits(Vec<u64>);

impl Bits {
    fn of(total: usize, items: &[u32]) -> Bits {
        let mut words = vec![0u64; total.div_ceil(64)];
        for &i in items {
            words[i as usize / 64] |= 1 << (i % 64);
        }
        Bits(words)
    }

    fn has(&self, i: u32) -> bool {
        self.0[i as usize / 64] & (1 << (i % 64)) != 0
    }

    /// The indices in the set, in order.
    fn ones(&self) -> impl Iterator<Item = u32> + '_ {
        self.0.iter().enumerate().flat_map(|(w, &word)| {
            let mut rest = word;
            std::iter::from_fn(move || {
                (rest != 0).then(|| {
                    let bit = rest.trailing_zeros();
                    rest &= rest - 1;
                    (w * 64) as u32 + bit
                })
            })
        })
    }
}

/// The characters that are not ASCII but lowercase to an ASCII letter (and more): the Kelvin
/// sign (to `k`) and `İ` (to `i` and a combining dot).
const LOWERS_TO_ASCII: [char; 2] = ['\u{130}', '\u{212A}'];
/// The first byte of each one's UTF-8.
const LOWERS_LEADS: [u8; 2] = [0xC4, 0xE2];

/// A needle looked for in texts ignoring case (as lowercasing both would find it).
struct Needle {
    lower: String,
    /// For an ASCII needle: it is found in a text with its ASCII letters lowercased (a text's
    /// ASCII runs lowercase to themselves, and only the characters in `LOWERS_TO_ASCII` make
    /// ASCII that was not there), by memmem's vectorised search.
    ascii: Option<memchr::memmem::Finder<'static>>,
}

impl Needle {
    fn new(needle: &str) -> Needle {
        let lower = needle.to_lowercase();
        let ascii = lower.is_ascii().then(|| memchr::memmem::Finder::new(lower.as_bytes()).into_owned());
        Needle { lower, ascii }
    }

    /// Whether `text` lowercased contains the needle. `text` is scratch: it may be left with
    /// its ASCII letters lowercased.
    fn is_in(&self, text: &mut String) -> bool {
        match &self.ascii {
            Some(finder) => {
                text.make_ascii_lowercase();
                finder.find(text.as_bytes()).is_some()
                    || (has_lowers_to_ascii(text) && text.to_lowercase().contains(&self.lower))
            }
            None => !text.is_ascii() && text.to_lowercase().contains(&self.lower),
        }
    }
}

/// Whether `text` holds one of `LOWERS_TO_ASCII`: their UTF-8 lead bytes found by memchr (a
/// search by `char` decodes every character, and runs for every line an ASCII needle misses).
fn has_lowers_to_ascii(text: &str) -> bool {
    let bytes = text.as_bytes();
    memchr::memchr2_iter(LOWERS_LEADS[0], LOWERS_LEADS[1], bytes)
        .any(|i| LOWERS_TO_ASCII.iter().any(|c| bytes[i..].starts_with(c.encode_utf8(&mut [0; 4]).as_bytes())))
}

/// Whether `needle` (lowercase ASCII) is a subsequence of `text` with each character folded as
/// the fuzzy matcher folds it (ASCII lowercased; others normalized, then case-folded): false
/// only where the matcher finds no match.
fn folded_in_order(text: &str, needle: &[u8]) -> bool {
    let mut want = needle.iter();
    let Some(mut next) = want.next() else { return true };
    for c in text.chars() {
        let folded = if c.is_ascii() {
            c.to_ascii_lowercase()
        } else {
            nucleo_matcher::chars::to_lower_case(nucleo_matcher::chars::normalize(c))
        };
        if folded == char::from(*next) {
            match want.next() {
                Some(n) => next = n,
                None => return true,
            }
        }
    }
    false
}

/// Character positions of `pattern` in `text` as the fuzzy filter matched it, for highlighting.
pub fn positions(text: &str, pattern: &str) -> Vec<usize> {
    if pattern.is_empty() {
        return Vec::new();
    }
    let mut matcher = Matcher::new(ranking());
    let mut buf = Vec::new();
    let mut indices = Vec::new();
    if atom(pattern).indices(Utf32Str::new(text, &mut buf), &mut matcher, &mut indices).is_none() {
        return Vec::new();
    }
    indices.sort_unstable();
    indices.dedup();
    indices.into_iter().map(|i| i as usize).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2000))]
        /// The UTF-8 check before the matcher never turns away a text the matcher matches
        /// (ſ folds to s, K (Kelvin) to k, accented letters to their base letter).
        #[test]
        fn the_in_order_check_keeps_every_text_the_matcher_matches(
            text in "[a-zA-Z .\\-@éÉåÅøØßſKİıÆæçÇñÑüÜωΩ中ﬁ\u{301}]{0,24}",
            needle in "[a-zA-Z .\\-@]{1,4}",
        ) {
            let mut matcher = Matcher::new(ranking());
            let mut buf = Vec::new();
            let matched = atom(&needle).score(Utf32Str::new(&text, &mut buf), &mut matcher).is_some();
            let lower = needle.to_ascii_lowercase();
            proptest::prop_assert!(!matched || folded_in_order(&text, lower.as_bytes()), "{text:?} {needle:?}");
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2000))]
        /// A needle is found exactly where lowercasing text and needle finds it.
        #[test]
        fn a_needle_is_found_where_lowercasing_both_finds_it(
            text in "[a-cA-CkKiIsS →éÉİıσΣς\u{212A}\u{307}]{0,16}",
            needle in "[a-cA-CkKiIsS →éİσΣ\u{307}]{1,3}",
        ) {
            let found = Needle::new(&needle).is_in(&mut text.clone());
            proptest::prop_assert_eq!(found, text.to_lowercase().contains(&needle.to_lowercase()));
        }
    }

    #[test]
    fn the_in_order_check_turns_away_what_has_no_match() {
        assert!(folded_in_order("José Håland", b"jose"));
        assert!(folded_in_order("ſtraße", b"st"), "long s folds to s");
        assert!(folded_in_order("Ørjan", b"oj"));
        assert!(!folded_in_order("Zoë García", b"zs"));
        assert!(!folded_in_order("Chloé", b"eh"), "in order only");
        let items = ["Zoë García", "Zoe Garcia", "Ana"];
        assert_eq!(all(&filter(|i| items[i], 3, "zoe g", None), 3), [0, 1], "accents fold: both match, equally");
    }

    fn all(f: &Filtered, total: usize) -> Vec<usize> {
        (0..f.len(total)).filter_map(|p| f.get(p)).collect()
    }

    #[test]
    fn filters_fuzzily_and_narrows() {
        let items = ["Sales EMEA", "Support", "Engineering", "sales na"];
        let f = filter(|i| items[i], items.len(), "sls", None);
        let got = all(&f, 4);
        assert_eq!(got.len(), 2);
        assert!(got.contains(&0) && got.contains(&3));
        let narrowed = filter(|i| items[i], items.len(), "slsn", f.narrowing().as_deref());
        assert_eq!(narrowed.items, Some(vec![3]));
        assert_eq!(filter(|i| items[i], 4, "", None).len(4), 4);
    }

    #[test]
    fn patterns_are_literal_and_ranked_best_first() {
        let items = ["x-sales-y", "Sales", "s a l e s", "!^sales$"];
        // A space, `!`, `^` and `$` are characters to find, not query syntax.
        assert_eq!(all(&filter(|i| items[i], 4, "s a", None), 4), vec![2]);
        assert_eq!(all(&filter(|i| items[i], 4, "!^", None), 4), vec![3]);
        // The exact word at the start ranks first.
        let f = filter(|i| items[i], 4, "sales", None);
        let got = all(&f, 4);
        assert_eq!(got.first(), Some(&1));
        assert_eq!(got.len() + f.weak.len(), 4, "every item matches");
        assert_eq!(positions("Sales EMEA", "sem"), vec![0, 6, 7]);
        assert_eq!(positions("Zoë Müller", "mu"), vec![4, 5]);
        assert!(positions("abc", "x").is_empty());
    }

    #[test]
    fn narrowing_gives_what_a_full_pass_gives_on_a_long_list() {
        // Long enough to be split over threads.
        let items: Vec<String> = (0..20_000)
            .map(|i| format!("user{i}@example.com {} Team {}", ["Sales", "Support", "Eng"][i % 3], i % 97))
            .collect();
        let get = |i: usize| items[i].as_str();
        let mut prev: Option<Vec<u32>> = None;
        for k in 1..="sales team 4".len() {
            let q = &"sales team 4"[..k];
            let full = filter(get, items.len(), q, None);
            let narrowed = filter(get, items.len(), q, prev.as_deref());
            assert_eq!(full, narrowed, "{q:?}");
            let put = |i: usize, out: &mut String| out.push_str(&items[i]);
            let sub_full = substring(put, items.len(), q, None);
            let sub_narrow = substring(put, items.len(), q, narrowed.narrowing().as_deref());
            let mut sorted = sub_narrow.items.clone().unwrap();
            sorted.sort_unstable();
            assert_eq!(sub_full.items.unwrap(), sorted, "{q:?}");
            prev = full.narrowing();
        }
        assert!(prev.is_some_and(|p| !p.is_empty()));
    }

    #[test]
    fn good_matches_first_and_weak_ones_dropped_when_good_ones_exist() {
        let items = ["Engineering", "Marketing", "Recruiting", "eng-mobile", "Growth Marketing", "eng-platform"];
        let f = filter(|i| items[i], items.len(), "eng", None);
        assert_eq!(all(&f, items.len()), vec![0, 3, 5]);
        assert_eq!(f.weak.len(), 3, "Marketing, Recruiting and Growth Marketing match, weakly");
        // Nearer the start ranks first.
        let f = filter(|i| items[i], items.len(), "mar", None);
        assert_eq!(all(&f, items.len()), vec![1, 4]);
        // With no good match, the weak ones are what there is.
        let only_weak = ["Marketing", "Recruiting"];
        assert_eq!(all(&filter(|i| only_weak[i], 2, "eng", None), 2).len(), 2);
        // A longer pattern still finds what a shorter one dropped as weak.
        let f = filter(|i| items[i], items.len(), "e", None);
        let narrowed = filter(|i| items[i], items.len(), "etin", f.narrowing().as_deref());
        assert_eq!(narrowed, filter(|i| items[i], items.len(), "etin", None));
        assert!(all(&narrowed, items.len()).contains(&1), "Marketing");
    }

    #[test]
    fn a_pass_asked_to_stop_stops_and_gives_nothing() {
        let items: Vec<String> = (0..50_000).map(|i| format!("user{i}@example.com")).collect();
        let asked = std::sync::atomic::AtomicUsize::new(0);
        let stop_later = || asked.fetch_add(1, std::sync::atomic::Ordering::Relaxed) >= 2;
        let put = |i: usize, out: &mut String| out.push_str(&items[i]);
        assert_eq!(substring_until(put, items.len(), "user4", None, &stop_later), None);
        assert_eq!(filter_until(|i| items[i].as_str(), items.len(), "usr", None, &|| true), None);
        // Never asked to stop: the whole answer.
        let all = substring_until(put, items.len(), "user4", None, &|| false).unwrap();
        assert_eq!(all, substring(put, items.len(), "user4", None));
        assert_eq!(all.items.unwrap().len(), 11_111);
    }

    #[test]
    fn visiting_in_another_order_finds_the_same_in_list_order() {
        let items: Vec<String> = (0..40_000).map(|i| format!("User {i} <u{i}@x.com> Team {}", i % 7)).collect();
        let put = |i: usize, out: &mut String| {
            out.clear();
            out.push_str(&items[i]);
        };
        // Reversed, then every other item first: any permutation gives the list order back.
        let mut order: Vec<u32> = (0..items.len() as u32).rev().collect();
        order.sort_by_key(|i| i % 2);
        let mut prev: Option<Vec<u32>> = None;
        for q in ["u", "u1", "u12", "u12@", "team 3"] {
            let plain = substring(put, items.len(), q, prev.as_deref());
            let visiting = substring_visiting_until(put, &order, q, prev.as_deref(), &|| false).unwrap();
            assert_eq!(plain, visiting, "{q:?}");
            assert!(plain.items.as_ref().is_some_and(|v| !v.is_empty()), "{q:?} finds something");
            prev = if q == "u12@" { None } else { plain.items };
        }
        assert_eq!(substring_visiting_until(put, &order, "u1", None, &|| true), None, "asked to stop");
        let bits = Bits::of(130, &[129, 0, 64, 63, 65]);
        assert_eq!(bits.ones().collect::<Vec<_>>(), vec![0, 63, 64, 65, 129]);
        assert!(bits.has(64) && !bits.has(1));
    }

    #[test]
    fn only_the_listed_characters_lowercase_to_ascii() {
        let makes_ascii: Vec<char> = (0..=char::MAX as u32)
            .filter_map(char::from_u32)
            .filter(|c| !c.is_ascii() && c.to_lowercase().any(|l| l.is_ascii()))
            .collect();
        assert_eq!(makes_ascii, LOWERS_TO_ASCII);
        assert_eq!(LOWERS_TO_ASCII.map(|c| c.to_string().as_bytes()[0]), LOWERS_LEADS);
        assert!(has_lowers_to_ascii("Zoë \u{212A}") && has_lowers_to_ascii("\u{130}"));
        assert!(!has_lowers_to_ascii("ı Zoë ĳ \u{2129}"), "lead bytes shared with others");
    }

    #[test]
    fn substring_ignores_case_like_lowercasing_both() {
        let items = ["Ana <ANA@x.com> Sales EMEA", "Bo <bo@x.com> sales", "Zoë MÜLLER", "Kelvin \u{212A}"];
        let get = |i: usize, out: &mut String| out.push_str(items[i]);
        assert_eq!(substring(get, 4, "SALES", None).items, Some(vec![0, 1]));
        assert_eq!(substring(get, 4, "müller", None).items, Some(vec![2]));
        // The Kelvin sign lowercases to an ASCII k: found as lowercasing would find it.
        assert_eq!(substring(get, 4, "kelvin k", None).items, Some(vec![3]));
        assert_eq!(substring(get, 4, "", None).items, None);
        assert_eq!(substring(get, 4, "zz", None).items, Some(vec![]));
        let is_in = |needle: &str, text: &str| Needle::new(needle).is_in(&mut text.to_owned());
        assert!(is_in("", "abc") && !is_in("abc", "ab") && is_in("abc", "xxABC") && is_in("AbC", "xxaBc"));
    }

    #[test]
    fn found_in_place_exactly_where_lowercasing_finds_it() {
        let texts = [
            "    ~ Zoë Müller <zoe@x.com>  Sales → Support   \"EMEA\"",
            "    + <İnci@x.com> (invitee)  (no group) → İstanbul   \"TR\"",
            "\u{212A}elvin → KELVIN",
            "ΣΊΣΥΦΟΣ → σίσυφος",
            "ab",
            "",
        ];
        let needles =
            ["", "s", "sales → s", "müller", "zoë", "i", "i̇", "inci", "i̇nci", "kelvin", "k", "σ", "ς", "→", "abc", "b"];
        for text in texts {
            for needle in needles {
                let lower = needle.to_lowercase();
                let found = Needle::new(needle).is_in(&mut text.to_owned());
                assert_eq!(found, text.to_lowercase().contains(&lower), "{text:?} {needle:?}");
            }
        }
    }
}
