//! Suggested groups for values without a row: exact names first, then fuzzy matches.

use fuzzy_matcher::FuzzyMatcher;
use fuzzy_matcher::skim::SkimMatcherV2;

use super::mapping::Mapping;
use super::snapshot::{GroupId, Snapshot};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Suggestion {
    pub value: String,
    pub group: GroupId,
    /// Higher is better; exact (case/space-insensitive) name matches score highest.
    pub score: i64,
}

const EXACT: i64 = 1_000_000;

fn norm(s: &str) -> String {
    super::text::fold_name(s)
}

/// One suggestion per unmapped value that resembles a group name, best first.
pub fn suggest(snap: &Snapshot, mapping: &Mapping) -> Vec<Suggestion> {
    let matcher = SkimMatcherV2::default().ignore_case();
    let names: Vec<String> = snap.groups.iter().map(|g| norm(&g.name)).collect();
    let mut out = Vec::new();
    for value in snap.values.iter().filter(|v| mapping.row(v).is_none()) {
        let v = norm(value);
        if v.is_empty() {
            continue;
        }
        let best = names
            .iter()
            .enumerate()
            .filter_map(|(i, name)| {
                let score = if *name == v {
                    EXACT
                } else {
                    // The shorter string must appear (fuzzily) in the longer one.
                    let (hay, needle) =
                        if name.len() >= v.len() { (name.as_str(), v.as_str()) } else { (v.as_str(), name.as_str()) };
                    let s = matcher.fuzzy_match(hay, needle)?;
                    // Weak matches of very short needles are noise.
                    if needle.chars().count() < 3 || s < 40 {
                        return None;
                    }
                    s
                };
                Some((score, i))
            })
            .max_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)));
        if let Some((score, i)) = best {
            out.push(Suggestion { value: value.clone(), group: GroupId(i as u32), score });
        }
    }
    out.sort_by(|a, b| b.score.cmp(&a.score).then(a.value.cmp(&b.value)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::snapshot::{Group, OwnerInput, OwnerKind};

    #[test]
    fn suggests_exact_names_first_and_skips_mapped_values() {
        let groups = ["Sales EMEA", "Engineering", "Support"]
            .iter()
            .enumerate()
            .map(|(i, n)| Group { uri: format!("g{i}"), name: (*n).into(), member_count: None })
            .collect();
        let owners = ["sales emea ", "Eng", "Engineering Team", "Zzz", "Support"]
            .iter()
            .enumerate()
            .map(|(i, v)| OwnerInput {
                kind: OwnerKind::Member,
                uri: format!("m{i}"),
                name: String::new(),
                email: format!("{i}@x"),
                value: Some((*v).into()),
                group: None,
            })
            .collect();
        let snap = Snapshot::new("b", "o", groups, owners, None);
        let mut m = Mapping::default();
        m.set("Support", crate::domain::Target::Group("g2".into()));
        let s = suggest(&snap, &m);
        assert_eq!(s[0].value, "sales emea ");
        assert_eq!(s[0].group, GroupId(0));
        assert!(s.iter().any(|x| x.value == "Engineering Team" && x.group == GroupId(1)));
        assert!(s.iter().all(|x| x.value != "Zzz" && x.value != "Support"));
    }
}
