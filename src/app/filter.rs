//! Fuzzy filtering of a list: indices of the matching items, best first, with match positions.

use fuzzy_matcher::FuzzyMatcher;
use fuzzy_matcher::skim::SkimMatcherV2;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Filtered {
    /// Item indices, best match first; None means "all, in order" (nothing materialised).
    pub items: Option<Vec<u32>>,
}

impl Filtered {
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

/// Filters `items` by `pattern`. `narrow` may hold the previous result for a shorter pattern
/// this one extends: only those are searched again.
pub fn filter<'a>(items: impl Fn(usize) -> &'a str, total: usize, pattern: &str, narrow: Option<&[u32]>) -> Filtered {
    if pattern.is_empty() {
        return Filtered { items: None };
    }
    let matcher = SkimMatcherV2::default().ignore_case();
    let mut scored: Vec<(i64, u32)> = match narrow {
        Some(prev) => {
            prev.iter().filter_map(|&i| matcher.fuzzy_match(items(i as usize), pattern).map(|s| (s, i))).collect()
        }
        None => (0..total).filter_map(|i| matcher.fuzzy_match(items(i), pattern).map(|s| (s, i as u32))).collect(),
    };
    scored.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    Filtered { items: Some(scored.into_iter().map(|(_, i)| i).collect()) }
}

/// Character positions of `pattern` in `text`, for highlighting.
pub fn positions(text: &str, pattern: &str) -> Vec<usize> {
    if pattern.is_empty() {
        return Vec::new();
    }
    SkimMatcherV2::default().ignore_case().fuzzy_indices(text, pattern).map(|(_, p)| p).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_fuzzily_and_narrows() {
        let items = ["Sales EMEA", "Support", "Engineering", "sales na"];
        let f = filter(|i| items[i], items.len(), "sls", None);
        let got: Vec<usize> = (0..f.len(4)).filter_map(|p| f.get(p)).collect();
        assert_eq!(got.len(), 2);
        assert!(got.contains(&0) && got.contains(&3));
        let narrowed = filter(|i| items[i], items.len(), "slsn", f.items.as_deref());
        assert_eq!(narrowed.items, Some(vec![3]));
        assert_eq!(filter(|i| items[i], 4, "", None).len(4), 4);
    }
}
