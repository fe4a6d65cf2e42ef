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
    let mut scored: Vec<(u16, u32)> = par_keep(
        total,
        narrow,
        || (Matcher::new(ranking()), Vec::new()),
        |(matcher, buf), i| atom.score(Utf32Str::new(items(i as usize), buf), matcher).map(|s| (s, i)),
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
    if needle.is_empty() {
        return Some(Filtered::default());
    }
    let lower = needle.to_lowercase();
    let ascii = lower.is_ascii();
    let kept = par_keep(
        total,
        narrow,
        String::new,
        |text, i| {
            text.clear();
            items(i as usize, text);
            let text = text.as_str();
            let hit = if ascii && text.is_ascii() {
                contains_ascii_nocase(text.as_bytes(), lower.as_bytes())
            } else {
                text.to_lowercase().contains(&lower)
            };
            hit.then_some(i)
        },
        stop,
    )?;
    Some(Filtered { items: Some(kept), weak: Vec::new() })
}

/// Whether `hay` contains `needle` (already lowercase ASCII), ignoring ASCII case. No allocation.
fn contains_ascii_nocase(hay: &[u8], needle: &[u8]) -> bool {
    let Some((&first, rest)) = needle.split_first() else { return true };
    if hay.len() < needle.len() {
        return false;
    }
    let last_start = hay.len() - needle.len();
    (0..=last_start)
        .any(|i| hay[i].to_ascii_lowercase() == first && hay[i + 1..i + needle.len()].eq_ignore_ascii_case(rest))
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
    fn substring_ignores_case_like_lowercasing_both() {
        let items = ["Ana <ANA@x.com> Sales EMEA", "Bo <bo@x.com> sales", "Zoë MÜLLER", "Kelvin \u{212A}"];
        let get = |i: usize, out: &mut String| out.push_str(items[i]);
        assert_eq!(substring(get, 4, "SALES", None).items, Some(vec![0, 1]));
        assert_eq!(substring(get, 4, "müller", None).items, Some(vec![2]));
        // The Kelvin sign lowercases to an ASCII k: found as lowercasing would find it.
        assert_eq!(substring(get, 4, "kelvin k", None).items, Some(vec![3]));
        assert_eq!(substring(get, 4, "", None).items, None);
        assert_eq!(substring(get, 4, "zz", None).items, Some(vec![]));
        assert!(contains_ascii_nocase(b"abc", b""));
        assert!(!contains_ascii_nocase(b"ab", b"abc"));
        assert!(contains_ascii_nocase(b"xxABC", b"abc"));
    }
}
