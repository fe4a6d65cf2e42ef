//! The preview digest (README: What a mapping does): SHA-256 of the plan's change lines sorted
//! by byte value, computed without building the lines.
//!
//! Every line starts with the bytes all owner URIs share. After them, each owner's URI is
//! copied once, in plan order, into a buffer of the thread that read it: the sorted order then
//! reads those copies, near each other, not the owners' strings scattered over the heap. Each
//! change gets a fixed-width key, 32 bytes of its line after the shared prefix; the keys are
//! sorted, and lines with equal keys are keyed again where they start to differ (or compared
//! in full). A long plan is split at a key into two parts sorted on two threads; one thread
//! then gathers the lines while the other hashes them. SHA-256 cannot be split, so hashing is
//! most of the time.

use std::cmp::Ordering;
use std::sync::mpsc;

use sha2::{Digest, Sha256};

use super::plan::{Dest, Plan};
use super::snapshot::Snapshot;

/// Below this many changes one thread is quicker than starting others.
const PARALLEL_FROM: usize = 8192;

/// Bytes gathered before they are handed to the hash.
const BLOCK: usize = 1 << 16;

/// Bytes of a line in a key.
const KEY: usize = 32;

/// A change's key (bytes of its line, big-endian), and where its line's parts are: what the
/// sort orders and the lines are gathered from.
#[derive(Clone, Copy)]
struct Keyed {
    key: [u64; 4],
    /// The owner's URI after the shared prefix: `uris[arena][start..start + len]`.
    start: usize,
    len: u32,
    arena: u32,
    /// Indices into `froms` and `tos`.
    from: u32,
    to: u32,
}

struct Lines<'a> {
    /// The bytes every line starts with.
    shared: &'a [u8],
    /// The owners' URIs, in plan order, copied by each thread that read them.
    uris: Vec<Vec<u8>>,
    /// `\t from \t` for each group (by GroupId), then for no group.
    froms: Vec<Vec<u8>>,
    /// `to \n` for each group, then `new:NAME \n` for each new group.
    tos: Vec<Vec<u8>>,
}

impl<'a> Lines<'a> {
    /// The lines of the plan's changes, and each change keyed at the start of its line after
    /// the shared prefix, in plan order. The owners are read on `threads` threads.
    fn new(plan: &Plan, snap: &'a Snapshot, threads: usize) -> (Self, Vec<Keyed>) {
        let people = snap.people();
        let owner = |i: usize| people[plan.changes[i].owner.0 as usize].uri.as_bytes();
        let n = plan.changes.len();
        let first = if n == 0 { &[][..] } else { owner(0) };
        let piece = |parts: &[&[u8]]| parts.concat();
        let groups = snap.groups.len() as u32;
        let mut lines = Lines {
            shared: &[],
            uris: Vec::new(),
            froms: snap.groups.iter().map(|g| piece(&[b"\t", g.uri.as_bytes(), b"\t"])).collect(),
            tos: snap.groups.iter().map(|g| piece(&[g.uri.as_bytes(), b"\n"])).collect(),
        };
        lines.froms.push(b"\t-\t".to_vec());
        lines.tos.extend(plan.new_groups.iter().map(|g| piece(&[b"new:", g.as_bytes(), b"\n"])));
        let parts: Vec<(u32, std::ops::Range<usize>)> =
            (0..threads).map(|t| (t as u32, n * t / threads..n * (t + 1) / threads)).collect();
        // Each thread copies its owners' URIs and finds the prefix they share with the first.
        let copied = on_threads(&parts, |(arena, r)| {
            let mut bytes = Vec::with_capacity(r.len() * (first.len() + 8));
            let mut keyed = Vec::with_capacity(r.len());
            let mut shared = first.len();
            for i in r.clone() {
                let c = &plan.changes[i];
                let uri = owner(i);
                shared = shared.min(common_prefix(first, uri));
                keyed.push(Keyed {
                    key: [0; 4],
                    start: bytes.len(),
                    len: uri.len() as u32,
                    arena: *arena,
                    from: c.from.map_or(groups, |g| g.0),
                    to: match c.to {
                        Dest::Group(g) => g.0,
                        Dest::New(n) => groups + n,
                    },
                });
                bytes.extend_from_slice(uri);
            }
            (bytes, keyed, shared)
        });
        let skip = copied.iter().map(|c| c.2).min().unwrap_or(0);
        lines.shared = &first[..skip];
        let mut keys = Vec::with_capacity(n);
        for (bytes, keyed, _) in copied {
            lines.uris.push(bytes);
            keys.extend(keyed);
        }
        for k in &mut keys {
            k.start += skip;
            k.len -= skip as u32;
            k.key = lines.key_from(k, 0);
        }
        (lines, keys)
    }

    fn tail(&self, k: &Keyed) -> &[u8] {
        &self.uris[k.arena as usize][k.start..k.start + k.len as usize]
    }

    /// The line of a change after the shared prefix, in parts: its owner's tail, `\t from \t`,
    /// `[new:]to \n`.
    fn parts(&self, k: &Keyed) -> [&[u8]; 3] {
        [self.tail(k), &self.froms[k.from as usize], &self.tos[k.to as usize]]
    }

    /// The line's bytes from `at` on (after the shared prefix).
    fn key_from(&self, k: &Keyed, at: usize) -> [u64; 4] {
        let mut key = [0u64; 4];
        match self.tail(k).get(at..at + KEY) {
            // Nearly always: the key lies within the owner's URI.
            Some(bytes) => {
                for (w, b) in key.iter_mut().zip(bytes.chunks_exact(8)) {
                    *w = u64::from_be_bytes(b.try_into().expect("8 bytes"));
                }
            }
            None => {
                let p = self.parts(k);
                for (n, w) in key.iter_mut().enumerate() {
                    *w = key_at(&p, at + 8 * n);
                }
            }
        }
        key
    }

    fn cmp_lines(&self, a: &Keyed, b: &Keyed) -> Ordering {
        cmp_concat(&self.parts(a), &self.parts(b))
    }

    /// Sorts lines that all share their bytes before `at`, keyed at `at`. Lines with equal
    /// keys (owner URIs alike for longer than a key, such as invitations under one
    /// organization) are keyed again where their owners' URIs start to differ.
    fn sort(&self, v: &mut [Keyed], at: usize) {
        v.sort_unstable_by_key(|k| k.key);
        let mut start = 0;
        while start < v.len() {
            let key = v[start].key;
            let end = start + v[start..].iter().take_while(|k| k.key == key).count();
            if end - start > 1 {
                self.sort_alike(&mut v[start..end], at);
            }
            start = end;
        }
    }

    fn sort_alike(&self, run: &mut [Keyed], at: usize) {
        let first = self.tail(&run[0]);
        let shared = run.iter().map(|k| common_prefix(first, self.tail(k))).min().unwrap_or(0);
        if shared >= at + KEY && run.iter().all(|k| k.len as usize >= shared + KEY) {
            let key = run[0].key;
            for k in run.iter_mut() {
                k.key = self.key_from(k, shared);
            }
            self.sort(run, shared);
            // Keyed at `at` again, as the caller has them.
            for k in run.iter_mut() {
                k.key = key;
            }
        } else {
            // Owner URIs that end within a key (one a prefix of another): compared in full.
            run.sort_unstable_by(|a, b| self.cmp_lines(a, b));
        }
    }

    /// The lines of `order` in blocks of about BLOCK bytes, each handed to `hash` (which
    /// leaves the buffer empty).
    fn blocks(&self, order: &[Keyed], mut hash: impl FnMut(&mut Vec<u8>)) {
        let mut buf = Vec::with_capacity(BLOCK + 1024);
        for k in order {
            for p in [self.shared, self.tail(k), &self.froms[k.from as usize], &self.tos[k.to as usize]] {
                buf.extend_from_slice(p);
            }
            if buf.len() >= BLOCK {
                hash(&mut buf);
            }
        }
        hash(&mut buf);
    }
}

/// `work` on each part, the first on this thread and the others on threads of their own.
fn on_threads<P: Sync, R: Send>(parts: &[P], work: impl Fn(&P) -> R + Sync) -> Vec<R> {
    std::thread::scope(|scope| {
        let work = &work;
        let others: Vec<_> = parts[1..].iter().map(|p| scope.spawn(move || work(p))).collect();
        let mut out = vec![work(&parts[0])];
        out.extend(others.into_iter().map(|o| o.join().expect("digest thread")));
        out
    })
}

/// SHA-256 (lowercase hex) of the sorted change lines; the empty plan hashes "".
pub fn of(plan: &Plan, snap: &Snapshot) -> String {
    if plan.changes.len() < PARALLEL_FROM {
        let (lines, mut keys) = Lines::new(plan, snap, 1);
        lines.sort(&mut keys, 0);
        let mut hasher = Sha256::new();
        lines.blocks(&keys, |buf| {
            hasher.update(&*buf);
            buf.clear();
        });
        return hex(&hasher.finalize());
    }
    let (lines, mut keys) = Lines::new(plan, snap, 2);
    // Split at a key near the middle: every line keyed below it sorts before every other.
    let mut sample: Vec<[u64; 4]> = keys.iter().step_by(keys.len() / 255).map(|k| k.key).collect();
    sample.sort_unstable();
    let pivot = sample[sample.len() / 2];
    let mut below = 0;
    for j in 0..keys.len() {
        if keys[j].key < pivot {
            keys.swap(below, j);
            below += 1;
        }
    }
    let (low, high) = keys.split_at_mut(below);
    let lines = &lines;
    std::thread::scope(|scope| {
        // Full blocks go to the other thread and come back empty to be filled again. That
        // thread sorts the upper part first and hands it back, then hashes.
        let (full, to_hash) = mpsc::sync_channel::<Vec<u8>>(8);
        let (empty, emptied) = mpsc::channel::<Vec<u8>>();
        let (sorted, upper) = mpsc::sync_channel::<&mut [Keyed]>(1);
        let hashing = scope.spawn(move || {
            lines.sort(high, 0);
            let _ = sorted.send(high);
            let mut hasher = Sha256::new();
            for buf in to_hash {
                hasher.update(&buf);
                let _ = empty.send(buf);
            }
            hasher.finalize()
        });
        lines.sort(low, 0);
        let mut send = |buf: &mut Vec<u8>| {
            let mut next = emptied.try_recv().unwrap_or_else(|_| Vec::with_capacity(BLOCK + 1024));
            next.clear();
            full.send(std::mem::replace(buf, next)).expect("the hashing thread ended early");
        };
        lines.blocks(low, &mut send);
        let high = upper.recv().expect("the sorting thread ended early");
        lines.blocks(high, &mut send);
        drop(full);
        hex(&hashing.join().expect("digest hash"))
    })
}

/// How many bytes `a` and `b` share from the start, compared 8 at a time.
fn common_prefix(a: &[u8], b: &[u8]) -> usize {
    let n = a.len().min(b.len());
    let mut i = 0;
    while i + 8 <= n && a[i..i + 8] == b[i..i + 8] {
        i += 8;
    }
    while i < n && a[i] == b[i] {
        i += 1;
    }
    i
}

/// The 8 bytes of the concatenated `parts` from byte `skip` on, big-endian, zero-padded: keys
/// order as the strings do, except that equal keys need a full comparison.
fn key_at(parts: &[&[u8]], mut skip: usize) -> u64 {
    let mut key = [0u8; 8];
    let mut n = 0;
    for p in parts {
        if skip >= p.len() {
            skip -= p.len();
            continue;
        }
        let take = (p.len() - skip).min(8 - n);
        key[n..n + take].copy_from_slice(&p[skip..skip + take]);
        n += take;
        skip = 0;
        if n == 8 {
            break;
        }
    }
    u64::from_be_bytes(key)
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[(b >> 4) as usize] as char);
        s.push(DIGITS[(b & 15) as usize] as char);
    }
    s
}

/// Compares two byte strings given as concatenations of parts, by byte value, without
/// concatenating them.
fn cmp_concat(a: &[&[u8]], b: &[&[u8]]) -> Ordering {
    let mut a = a.iter().copied().filter(|p| !p.is_empty());
    let mut b = b.iter().copied().filter(|p| !p.is_empty());
    let (mut x, mut y): (&[u8], &[u8]) = (&[], &[]);
    loop {
        if x.is_empty() {
            x = a.next().unwrap_or(&[]);
        }
        if y.is_empty() {
            y = b.next().unwrap_or(&[]);
        }
        match (x.is_empty(), y.is_empty()) {
            (true, true) => return Ordering::Equal,
            (true, false) => return Ordering::Less,
            (false, true) => return Ordering::Greater,
            _ => {}
        }
        let n = x.len().min(y.len());
        match x[..n].cmp(&y[..n]) {
            Ordering::Equal => {
                x = &x[n..];
                y = &y[n..];
            }
            other => return other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::mapping::{Mapping, Row, Target};
    use crate::domain::plan::impact;
    use crate::domain::snapshot::{OwnerInput, OwnerKind};

    #[test]
    fn concatenations_compare_like_the_joined_strings() {
        let cases: &[(&[&str], &[&str])] = &[
            (&["ab", "\t", "c"], &["a", "b\tc"]),
            (&["abc", "\t", "x"], &["abc1", "\t", "x"]),
            (&["abc", "\t"], &["abc\u{1}", "\t"]),
            (&["", "a"], &["a", ""]),
            (&["b"], &["a", "zz"]),
            (&[], &["", ""]),
            (&["x", "y"], &["xy", "z"]),
        ];
        for (a, b) in cases {
            let join = |p: &[&str]| p.concat();
            let pa: Vec<&[u8]> = a.iter().map(|s| s.as_bytes()).collect();
            let pb: Vec<&[u8]> = b.iter().map(|s| s.as_bytes()).collect();
            assert_eq!(cmp_concat(&pa, &pb), join(a).as_bytes().cmp(join(b).as_bytes()), "{a:?} vs {b:?}");
            assert_eq!(cmp_concat(&pb, &pa), join(b).as_bytes().cmp(join(a).as_bytes()), "{b:?} vs {a:?}");
        }
    }

    /// The digest of a plan over owners with these URIs, and the contract's: every line built,
    /// sorted as strings, hashed.
    fn both(uris: &[String]) -> (String, String, usize) {
        let owners = uris
            .iter()
            .enumerate()
            .map(|(i, uri)| OwnerInput {
                kind: OwnerKind::Member,
                uri: uri.clone(),
                name: String::new(),
                email: format!("{i}@x"),
                value: Some(["A", "B"][i % 2].to_owned()),
                group: (i % 3 == 0).then(|| format!("g/{}", i % 2)),
            })
            .collect();
        let snap = Snapshot::new("b", "o", Vec::new(), owners, None);
        let mapping = Mapping {
            enabled: true,
            rows: vec![
                Row { idp_value: "A".into(), target: Target::New("New".into()) },
                Row { idp_value: "B".into(), target: Target::Group("g/0".into()) },
            ],
            default_group: None,
            apply_to_existing: true,
        };
        let p = impact(&snap, &mapping);
        let mut lines: Vec<String> = p
            .changes
            .iter()
            .map(|c| {
                let from = c.from.map_or("-", |g| snap.group(g).uri.as_str());
                format!("{}\t{}\t{}\n", snap.owner(c.owner).uri, from, p.dest_wire(&snap, c.to))
            })
            .collect();
        lines.sort_unstable();
        (p.digest(&snap), hex(&Sha256::digest(lines.concat().as_bytes())), p.changes.len())
    }

    /// URIs that are prefixes of others, alike for more than the key's bytes after the shared
    /// part, with bytes below a tab, and owners appearing twice.
    fn awkward(tag: &str) -> Vec<String> {
        let long = "x".repeat(40);
        vec![
            format!("u/{tag}{long}"),
            format!("u/{tag}{long}1"),
            format!("u/{tag}{long}\u{1}"),
            format!("u/{tag}{long}\t"),
            format!("u/{tag}"),
            format!("u/{tag}a"),
            format!("u/{tag}a"),
            format!("u/{tag}{long}"),
        ]
    }

    #[test]
    fn the_digest_hashes_the_lines_sorted_as_strings_whatever_the_uris_share() {
        let (ours, contract, changes) = both(&awkward(""));
        assert!(changes >= 6, "{changes} changes");
        assert_eq!(ours, contract);
        let snap = Snapshot::new("b", "o", Vec::new(), Vec::new(), None);
        assert_eq!(Plan::default().digest(&snap), hex(&Sha256::digest(b"")));
    }

    #[test]
    fn a_long_plan_sorted_and_hashed_on_two_threads_has_the_same_digest() {
        // Enough changes for the threaded path, awkward URIs falling in both halves, and more
        // lines than one block.
        let mut uris: Vec<String> = (0..3000).flat_map(|i| awkward(&format!("{:x}/", i * 7919 % 3001))).collect();
        let base = "https://api.calendly.com/organization";
        uris.extend((0..4000u64).map(|i| format!("{base}_memberships/{:032x}", i * 2654435761)));
        // Invitations share more than a key's length after what all lines share.
        uris.extend((0..2000u64).map(|i| format!("{base}s/0f0f0f0f-org/invitations/{:032x}", i * 40503)));
        let (ours, contract, changes) = both(&uris);
        assert!(changes >= PARALLEL_FROM && changes * 60 > BLOCK * 4, "{changes} changes");
        assert_eq!(ours, contract);
    }

    #[test]
    fn hex_is_lowercase_two_digits_a_byte() {
        assert_eq!(hex(&[0, 9, 10, 255]), "00090aff");
    }
}
