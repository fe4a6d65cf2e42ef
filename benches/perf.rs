//! `cargo bench --bench perf`: every performance figure of DESIGN.md ("Performance targets"),
//! each beside its target and a baseline measured in the same run, with the machine's core count.
//!
//! A plain `harness = false` main timed with `std::time`: medians over repeated runs.
//! Options (after `--`): `--rate-limit` (or `GROUPMAP_BENCH_RATE_LIMIT=1`) adds the load against
//! a sandbox enforcing 500 requests/minute (about two minutes); `--only a,b` runs some sections
//! (plan, filter, load, rss, render, ratelimit).

use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

#[path = "../tests/common/sequential.rs"]
mod sequential;
use groupmap::app::filter::filter;
use groupmap::app::{Effect, Model, Msg, update};
use groupmap::domain::{FieldChoice, Mapping, Row, Snapshot, Target, plan};
use groupmap::engine::{Engine, LoadOptions, Organization};
use groupmap::sandbox::{Options, Sandbox};
use groupmap::service::calendly::{Client, Secret};
use groupmap::ui::{theme::Theme, view};
use ratatui::layout::Rect;
use ratatui::{Terminal, TerminalOptions, Viewport};
use sequential::load_sequential;

const RSS_CHILD: &str = "GROUPMAP_BENCH_RSS_CHILD";
const WAIT_CHILD: &str = "GROUPMAP_BENCH_WAIT_CHILD";
const QUERY: &str = "sales emea";

/// One line of the closing summary.
struct Figure {
    work: String,
    target: String,
    measured: String,
    baseline: String,
    verdict: &'static str,
}

struct Bench {
    figures: Vec<Figure>,
}

impl Bench {
    fn figure(&mut self, work: &str, target: &str, measured: String, baseline: String, met: Option<bool>) {
        let verdict = match met {
            Some(true) => "met",
            Some(false) => "MISSED",
            None => "-",
        };
        self.figures.push(Figure { work: work.into(), target: target.into(), measured, baseline, verdict });
    }
}

fn ms(d: Duration) -> String {
    let ms = d.as_secs_f64() * 1000.0;
    if ms < 10.0 { format!("{ms:.2} ms") } else { format!("{ms:.1} ms") }
}

fn secs(d: Duration) -> String {
    format!("{:.2} s", d.as_secs_f64())
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// Runs `f` `n` times; the median and the slowest run.
fn time<R>(n: usize, mut f: impl FnMut() -> R) -> (Duration, Duration) {
    let mut runs = Vec::with_capacity(n);
    for _ in 0..n {
        let t = Instant::now();
        std::hint::black_box(f());
        runs.push(t.elapsed());
    }
    let max = *runs.iter().max().expect("runs");
    (median(runs), max)
}

/// This thread's CPU time: on a machine shared with other builds, wall time also counts the
/// time other processes held the cores.
fn cpu_now() -> Duration {
    clock(libc::CLOCK_THREAD_CPUTIME_ID)
}

/// The CPU time of every thread of this process, for work spread over threads.
fn process_cpu_now() -> Duration {
    clock(libc::CLOCK_PROCESS_CPUTIME_ID)
}

fn clock(id: libc::clockid_t) -> Duration {
    let mut t = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `t` is a live local for the call to fill in.
    unsafe { libc::clock_gettime(id, &mut t) };
    Duration::new(t.tv_sec as u64, t.tv_nsec as u32)
}

/// Runs `f` `n` times: the median wall time, the median CPU time of this thread, the slowest
/// wall time.
fn time_cpu<R>(n: usize, f: impl FnMut() -> R) -> (Duration, Duration, Duration) {
    time_on(n, cpu_now, f)
}

/// As `time_cpu`, the CPU time measured by `cpu`.
fn time_on<R>(n: usize, cpu: fn() -> Duration, mut f: impl FnMut() -> R) -> (Duration, Duration, Duration) {
    let (mut wall, mut cpus) = (Vec::with_capacity(n), Vec::with_capacity(n));
    for _ in 0..n {
        let (t, c) = (Instant::now(), cpu());
        std::hint::black_box(f());
        cpus.push(cpu() - c);
        wall.push(t.elapsed());
    }
    let max = *wall.iter().max().expect("runs");
    (median(wall), median(cpus), max)
}

fn main() {
    if std::env::var_os(RSS_CHILD).is_some() {
        rss_child();
        return;
    }
    if let Ok(bin) = std::env::var(WAIT_CHILD) {
        wait_child(&bin);
        return;
    }
    let args: Vec<String> = std::env::args().skip(1).collect();
    let rate_limit = args.iter().any(|a| a == "--rate-limit")
        || std::env::var("GROUPMAP_BENCH_RATE_LIMIT").is_ok_and(|v| !v.is_empty() && v != "0");
    let only: Option<Vec<String>> = args
        .iter()
        .position(|a| a == "--only")
        .and_then(|i| args.get(i + 1))
        .map(|s| s.split(',').map(str::to_owned).collect());
    let on = |name: &str| only.as_ref().is_none_or(|o| o.iter().any(|x| x == name));

    // For profilers (perf, valgrind --tool=callgrind): plan() on the 100k-user org, N times.
    if let Some(n) = std::env::var("GROUPMAP_BENCH_PROFILE_PLAN").ok().and_then(|v| v.parse::<usize>().ok()) {
        let (_rt, sb) = big_sandbox();
        let snap = sb.snapshot();
        let mapping = full_mapping(&snap);
        for _ in 0..n {
            std::hint::black_box(plan(&snap, &mapping));
        }
        return;
    }
    // For profilers: one keystroke's pattern (GROUPMAP_BENCH_PROFILE_PATTERN, default "s") over
    // the filter section's 100,000 per-user strings, N times.
    if let Some(n) = std::env::var("GROUPMAP_BENCH_PROFILE_FILTER").ok().and_then(|v| v.parse::<usize>().ok()) {
        let (_rt, sb) = big_sandbox();
        let lines = user_lines(&sb.snapshot());
        let pattern = std::env::var("GROUPMAP_BENCH_PROFILE_PATTERN").unwrap_or_else(|_| "s".into());
        let t = Instant::now();
        for _ in 0..n {
            std::hint::black_box(filter(|i| lines[i].as_str(), lines.len(), &pattern, None));
        }
        let f = filter(|i| lines[i].as_str(), lines.len(), &pattern, None);
        let ascii = lines.iter().filter(|l| l.is_ascii()).count();
        eprintln!(
            "{pattern:?}: {} a pass; {} strong, {} weak matches; {ascii} of {} strings ASCII",
            ms(t.elapsed() / n.max(1) as u32),
            f.len(lines.len()),
            f.weak.len(),
            lines.len()
        );
        return;
    }
    // For profilers: the preview filter's first two keys ("s", "a") typed N times in the editor
    // on the 100k-user preview, each part of keystroke-to-frame timed.
    if let Some(n) = std::env::var("GROUPMAP_BENCH_PROFILE_PREVIEW").ok().and_then(|v| v.parse::<usize>().ok()) {
        let (rt, sb) = big_sandbox();
        let loaded = bench_load(&rt, &mut Bench { figures: Vec::new() }, &sb, false);
        let mut m = ready_model(loaded, (160, 48));
        with_mapping(&mut m);
        let t = Instant::now();
        update(&mut m, key(KeyCode::Char('p')));
        eprintln!("p (the preview's lines made): {}", ms(t.elapsed()));
        let mut screen = Counted::new(160, 48);
        screen.frame(&m);
        let mut parts = [[Duration::ZERO; 4]; 2];
        for _ in 0..n {
            screen.step(&mut m, key(KeyCode::Char('/')));
            for (k, c) in ['s', 'a'].into_iter().enumerate() {
                let t = Instant::now();
                let effects = update(&mut m, key(KeyCode::Char(c)));
                let t1 = Instant::now();
                screen.frame(&m);
                let t2 = Instant::now();
                let answers: Vec<Msg> =
                    effects.into_iter().filter_map(|e| groupmap::app::update::filter_work(e, &|| false)).collect();
                let t3 = Instant::now();
                for a in answers {
                    update(&mut m, a);
                }
                screen.frame(&m);
                for (p, d) in parts[k].iter_mut().zip([t1 - t, t2 - t1, t3 - t2, t3.elapsed()]) {
                    *p += d;
                }
            }
            screen.step(&mut m, key(KeyCode::Esc));
        }
        for (k, c) in ['s', 'a'].into_iter().enumerate() {
            let [u, f, w, a] = parts[k].map(|d| ms(d / n.max(1) as u32));
            eprintln!("{c:?}: update {u}, its frame {f}, the filter {w}, the answer and its frame {a}");
        }
        // The filter's work alone: each pattern from scratch, and "sa" narrowed from "s".
        let search = |needle: &str, narrow: Option<Vec<u32>>| {
            let effect = Effect::FilterPreview { id: 0, lines: m.preview_lines.clone(), needle: needle.into(), narrow };
            match groupmap::app::update::filter_work(effect, &|| false) {
                Some(Msg::PreviewFiltered { filtered, .. }) => filtered,
                other => panic!("{other:?}"),
            }
        };
        let s = search("s", None);
        for (name, needle, narrow) in [("s", "s", None), ("sa", "sa", None), ("sa from s", "sa", s.items.clone())] {
            let t = Instant::now();
            for _ in 0..n {
                std::hint::black_box(search(needle, narrow.clone()));
            }
            eprintln!("{name}: {} a pass", ms(t.elapsed() / n.max(1) as u32));
        }
        return;
    }
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!("groupmap performance benchmarks: {cores} core(s), {} build", build_kind());
    if cfg!(debug_assertions) {
        println!("warning: a debug build; the targets are for release (`cargo bench` builds with optimizations)");
    }
    let mut b = Bench { figures: Vec::new() };

    // One 100k-user organization served for the load, RSS and render sections.
    let (rt, big) = big_sandbox();
    let big_snap = big.snapshot();

    if on("plan") {
        bench_plan(&rt, &mut b, &big_snap);
    }
    if on("filter") {
        bench_filter(&mut b, &big_snap);
    }
    let mut loaded = None;
    if on("load") || on("render") || on("filter") {
        loaded = Some(bench_load(&rt, &mut b, &big, on("load")));
    }
    if on("filter")
        && let Some(l) = &loaded
    {
        bench_filter_in_editor(&mut b, l.clone());
    }
    if on("rss") {
        bench_rss(&mut b, &big);
    }
    if on("render")
        && let Some(l) = &loaded
    {
        bench_render(&mut b, l.clone());
    }
    if rate_limit && on("ratelimit") {
        bench_rate_limit(&rt, &mut b);
    } else {
        b.figure(
            "load under 500 req/min",
            "≤ floor + 10 %, no 429",
            "not run (add `-- --rate-limit`, ~2 min)".into(),
            "-".into(),
            None,
        );
    }
    rt.block_on(big.shutdown());

    println!("\nSummary ({cores} core(s), {} build)", build_kind());
    let w0 = b.figures.iter().map(|f| f.work.chars().count()).max().unwrap_or(0);
    let w1 = b.figures.iter().map(|f| f.target.chars().count()).max().unwrap_or(0);
    let w2 = b.figures.iter().map(|f| f.measured.chars().count()).max().unwrap_or(0);
    let w3 = b.figures.iter().map(|f| f.baseline.chars().count()).max().unwrap_or(0);
    println!("  {:w0$}  {:w1$}  {:w2$}  {:w3$}  verdict", "work", "target", "measured", "baseline");
    for f in &b.figures {
        println!("  {:w0$}  {:w1$}  {:w2$}  {:w3$}  {}", f.work, f.target, f.measured, f.baseline, f.verdict);
    }
}

fn build_kind() -> &'static str {
    if cfg!(debug_assertions) { "debug" } else { "release" }
}

/// A runtime and, on it, the sandbox serving the 100k-user organization, with no rate limit.
fn big_sandbox() -> (tokio::runtime::Runtime, Sandbox) {
    let rt = tokio::runtime::Runtime::new().expect("tokio runtime");
    let sb = rt.block_on(Sandbox::start(sandbox_opts(100_000, u32::MAX))).expect("sandbox");
    (rt, sb)
}

fn sandbox_opts(users: usize, rate_limit: u32) -> Options {
    Options { users: Some(users), rate_limit, job_step: Duration::from_millis(1), ..Options::default() }
}

/// Every value mapped (to a spread of groups) and a default group: every path of `plan` runs.
fn full_mapping(snap: &Snapshot) -> Mapping {
    let n = snap.groups.len();
    Mapping {
        enabled: true,
        rows: snap
            .values
            .iter()
            .enumerate()
            .map(|(i, v)| Row { idp_value: v.clone(), target: Target::Group(snap.groups[(i * 7) % n].uri.clone()) })
            .collect(),
        default_group: Some(Target::Group(snap.groups[0].uri.clone())),
        apply_to_existing: true,
    }
}

fn bench_plan(rt: &tokio::runtime::Runtime, b: &mut Bench, big: &Snapshot) {
    println!("\n## plan(): the preview, computed on every edit");
    let mut ten_k = Duration::ZERO;
    for users in [1_000usize, 10_000, 100_000] {
        let small;
        let snap = if users == 100_000 {
            big
        } else {
            let sb = rt.block_on(Sandbox::start(sandbox_opts(users, u32::MAX))).expect("sandbox");
            small = sb.snapshot();
            rt.block_on(sb.shutdown());
            &small
        };
        let mapping = full_mapping(snap);
        // The row table only half filled: values with no row go to the default group.
        let mut half = mapping.clone();
        half.rows.truncate(half.rows.len() / 2);
        let runs = if users >= 100_000 { 30 } else { 100 };
        let (med, cpu, max) = time_cpu(runs, || plan(snap, &mapping));
        let (half_med, _) = time(runs, || plan(snap, &half));
        let p = plan(snap, &mapping);
        // Long plans are sorted and hashed on two threads: judged on wall time, all threads'
        // CPU time beside it.
        let (digest, digest_cpu, _) = time_on(9, process_cpu_now, || p.digest(snap));
        let (reference, reference_cpu, _) = time_cpu(3, || digest_of_sorted_lines(&p, snap));
        assert_eq!(p.digest(snap), digest_of_sorted_lines(&p, snap), "the digest's value is the contract's");
        println!(
            "  {users:>7} users, {:>5} values, {:>3} groups, {:>4} rows: plan median {} wall, {} CPU (max {} wall), \
             half the rows {}; {} changes; digest {} wall, {} CPU (lines built and sorted: {} wall, {} CPU)",
            snap.values.len(),
            snap.groups.len(),
            mapping.rows.len(),
            ms(med),
            ms(cpu),
            ms(max),
            ms(half_med),
            p.changes.len(),
            ms(digest),
            ms(digest_cpu),
            ms(reference),
            ms(reference_cpu),
        );
        if users == 10_000 {
            ten_k = cpu;
        }
        if users == 100_000 {
            // Plan's verdict is on CPU time: one thread's work, whatever else the machine runs.
            b.figure(
                "plan, 100k users/2k values/500 groups",
                "≤ 2 ms",
                format!("{} CPU median ({} wall, {} max)", ms(cpu), ms(med), ms(max)),
                format!("10k users {} CPU (×10 users: ×{:.1})", ms(ten_k), cpu.as_secs_f64() / ten_k.as_secs_f64()),
                Some(cpu <= Duration::from_millis(2)),
            );
            b.figure(
                &format!("digest of {} change lines", p.changes.len()),
                "≤ 20 ms",
                format!("{} wall median ({} CPU, all threads)", ms(digest), ms(digest_cpu)),
                format!("lines built and sorted as strings: {} wall", ms(reference)),
                Some(digest <= Duration::from_millis(20)),
            );
        }
    }
}

/// The digest as the contract defines it: every change line built, sorted as strings, hashed.
fn digest_of_sorted_lines(p: &groupmap::domain::Plan, snap: &Snapshot) -> String {
    use sha2::{Digest, Sha256};
    let mut lines: Vec<String> = p
        .changes
        .iter()
        .map(|c| {
            let from = c.from.map_or("-", |g| snap.group(g).uri.as_str());
            format!("{}\t{}\t{}\n", snap.owner(c.owner).uri, from, p.dest_wire(snap, c.to))
        })
        .collect();
    lines.sort_unstable();
    let mut h = Sha256::new();
    for l in &lines {
        h.update(l.as_bytes());
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// One string per user, as a per-user preview row shows them.
fn user_lines(snap: &Snapshot) -> Vec<String> {
    snap.owners()
        .map(|o| {
            format!(
                "{} <{}> {} {}",
                o.name,
                o.email,
                o.value.map_or("", |v| snap.value(v)),
                o.group.map_or("-", |g| snap.group(g).name.as_str())
            )
        })
        .collect()
}

/// Per keystroke of QUERY typed one character at a time: median over `rounds` of each.
fn keystrokes(rounds: usize, mut type_key: impl FnMut(&str, Option<&[u32]>) -> Option<Vec<u32>>) -> Vec<Duration> {
    let chars: Vec<char> = QUERY.chars().collect();
    let mut per_key: Vec<Vec<Duration>> = vec![Vec::new(); chars.len()];
    for _ in 0..rounds {
        let mut prev: Option<Vec<u32>> = None;
        for k in 1..=chars.len() {
            let q: String = chars[..k].iter().collect();
            let t = Instant::now();
            let r = type_key(&q, prev.as_deref());
            per_key[k - 1].push(t.elapsed());
            prev = std::hint::black_box(r);
        }
    }
    per_key.into_iter().map(median).collect()
}

fn summary(v: &[Duration]) -> (Duration, Duration) {
    let max = *v.iter().max().expect("keys");
    let mean = v.iter().sum::<Duration>() / v.len() as u32;
    (max, mean)
}

/// The engine before this work: fuzzy-matcher's skim, one thread (the baseline).
fn skim_filter(lines: &[String], pattern: &str, narrow: Option<&[u32]>) -> Vec<u32> {
    use fuzzy_matcher::FuzzyMatcher;
    let matcher = fuzzy_matcher::skim::SkimMatcherV2::default().ignore_case();
    let candidates: Vec<u32> = narrow.map_or_else(|| (0..lines.len() as u32).collect(), <[u32]>::to_vec);
    let mut scored: Vec<(i64, u32)> = candidates
        .into_iter()
        .filter_map(|i| matcher.fuzzy_match(&lines[i as usize], pattern).map(|s| (s, i)))
        .collect();
    scored.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    scored.into_iter().map(|(_, i)| i).collect()
}

fn bench_filter(b: &mut Bench, snap: &Snapshot) {
    println!("\n## filter: {:?} typed one character at a time over 100,000 strings (one per user)", QUERY);
    let lines = user_lines(snap);
    let n = lines.len().min(100_000);
    let lines = &lines[..n];
    let get = |i: usize| lines[i].as_str();
    let narrowing = keystrokes(5, |q, prev| filter(get, n, q, prev).narrowing());
    let full = keystrokes(5, |q, _| filter(get, n, q, None).items);
    let skim_narrow = keystrokes(2, |q, prev| Some(skim_filter(lines, q, prev)));
    let skim_full = keystrokes(2, |q, _| Some(skim_filter(lines, q, None)));
    let sub =
        keystrokes(5, |q, prev| groupmap::app::filter::substring(|i, out| out.push_str(get(i)), n, q, prev).items);
    let results: Vec<usize> = (1..=QUERY.len()).map(|k| filter(get, n, &QUERY[..k], None).len(n)).collect();
    println!(
        "  {:<12} {:>7} {:>15} {:>15} {:>15} {:>15} {:>15}",
        "query", "matches", "nucleo+narrow", "nucleo full", "skim+narrow", "skim full", "substring"
    );
    for k in 0..QUERY.len() {
        println!(
            "  {:<12} {:>7} {:>15} {:>15} {:>15} {:>15} {:>15}",
            format!("{:?}", &QUERY[..=k]),
            results[k],
            ms(narrowing[k]),
            ms(full[k]),
            ms(skim_narrow[k]),
            ms(skim_full[k]),
            ms(sub[k])
        );
    }
    let row = |name: &str, v: &[Duration]| {
        let (max, mean) = summary(v);
        println!("  {name:<28} max {:>9} mean {:>9}", ms(max), ms(mean));
        (max, mean)
    };
    println!(
        "  per keystroke ({} thread(s) for long lists):",
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    let (nmax, nmean) = row("nucleo + narrowing (engine)", &narrowing);
    row("nucleo, full pass", &full);
    let (smax, _) = row("skim + narrowing (before)", &skim_narrow);
    let (sfmax, _) = row("skim, full pass", &skim_full);
    let (submax, _) = row("substring + narrowing", &sub);
    b.figure(
        "filter keystroke, 100k strings (fuzzy)",
        "≤ 16 ms",
        format!("max {} / mean {} (nucleo, narrowing)", ms(nmax), ms(nmean)),
        format!("skim+narrowing max {}, skim full {}; substring {}", ms(smax), ms(sfmax), ms(submax)),
        Some(nmax <= Duration::from_millis(16)),
    );
}

fn key(c: KeyCode) -> Msg {
    Msg::Key(KeyEvent::new(c, KeyModifiers::NONE))
}

/// The editor with this organization loaded, at `size`.
fn ready_model(loaded: Arc<Organization>, size: (u16, u16)) -> Model {
    let mut m = Model::new(true, FieldChoice::default());
    update(&mut m, Msg::Resize(size.0, size.1));
    let effects = groupmap::app::update::start_load(&mut m);
    let Some(Effect::Load { id }) = effects.first() else { panic!("the editor starts with a load") };
    update(&mut m, Msg::Loaded { id: *id, result: Ok(loaded) });
    assert!(m.ready(), "the editor did not become ready");
    m
}

/// A mapping with rows for half the values: the preview then has tens of thousands of changes.
fn with_mapping(m: &mut Model) {
    let full = full_mapping(m.snap());
    m.mapping = full;
    groupmap::app::update::recompute(m);
}

fn bench_filter_in_editor(b: &mut Bench, loaded: Arc<Organization>) {
    let mut m = ready_model(loaded, (160, 48));
    with_mapping(&mut m);
    update(&mut m, key(KeyCode::Char('p')));
    let lines = m.preview_lines.len();
    println!(
        "\n## filter keystroke in the editor: update() on the preview of {} lines ({} changes)",
        lines,
        m.plan.changes.len()
    );
    let keys = filter_typed(&mut m, |m, msg| {
        update(m, msg);
    });
    let (max, mean) = summary(&keys);
    println!("  per keystroke: {}", per_key_line(&keys));
    // update() only: a long preview is filtered off the input path, so this is how long the
    // input waits.
    b.figure(
        &format!("filter keystroke, editor preview ({lines} lines): input path"),
        "≤ 16 ms",
        format!("max {} / mean {}", ms(max), ms(mean)),
        "-".into(),
        Some(max <= Duration::from_millis(16)),
    );
    // Keystroke to filtered frame: the key, its frame, the filter's work (on both cores, as
    // the runtime runs it), the answer and its frame. The runtime's hand-offs are left out.
    let mut screen = Counted::new(160, 48);
    screen.frame(&m);
    let keys = filter_typed(&mut m, |m, msg| {
        screen.step(m, msg);
    });
    let (fmax, fmean) = summary(&keys);
    println!("  keystroke to filtered frame: {}", per_key_line(&keys));
    b.figure(
        &format!("keystroke to filtered frame, preview ({lines} lines)"),
        "≤ 16 ms",
        format!("max {} / mean {}", ms(fmax), ms(fmean)),
        "input path above: the list on screen meanwhile".into(),
        Some(fmax <= Duration::from_millis(16)),
    );
}

/// `/`, QUERY typed into the preview's filter, Esc, five times, each message handed to `send`:
/// the median time of each typed key.
fn filter_typed(m: &mut Model, mut send: impl FnMut(&mut Model, Msg)) -> Vec<Duration> {
    let mut per_key: Vec<Vec<Duration>> = vec![Vec::new(); QUERY.len()];
    for _ in 0..5 {
        send(m, key(KeyCode::Char('/')));
        for (k, c) in QUERY.chars().enumerate() {
            let t = Instant::now();
            send(m, key(KeyCode::Char(c)));
            per_key[k].push(t.elapsed());
        }
        // Esc clears the filter and stays on the preview.
        send(m, key(KeyCode::Esc));
        assert!(m.preview.filter.is_empty() && m.screen == groupmap::app::model::Screen::Preview);
    }
    per_key.into_iter().map(median).collect()
}

fn per_key_line(keys: &[Duration]) -> String {
    keys.iter().zip(QUERY.chars()).map(|(d, c)| format!("{c:?} {}", ms(*d))).collect::<Vec<_>>().join(", ")
}

fn client(sb: &Sandbox) -> Client {
    Client::new(sb.base_url(), Secret::new(sb.token())).expect("client")
}

fn bench_load(rt: &tokio::runtime::Runtime, b: &mut Bench, big: &Sandbox, report: bool) -> Arc<Organization> {
    let opts = LoadOptions::default();
    let runs = if report { 3 } else { 1 };
    let mut concurrent = Vec::new();
    let mut requests = 0;
    let mut last = None;
    for _ in 0..runs {
        let before = big.requests();
        let t = Instant::now();
        let l = rt.block_on(Engine::calendly(client(big), &opts).load(None)).expect("load");
        concurrent.push(t.elapsed());
        requests = big.requests() - before;
        last = Some(l);
    }
    let loaded = last.expect("loaded");
    if !report {
        return Arc::new(loaded);
    }
    println!("\n## load: 100,000 users from the sandbox over loopback");
    let mut sequential = Vec::new();
    let mut seq_requests = 0;
    for _ in 0..runs {
        let before = big.requests();
        let t = Instant::now();
        std::hint::black_box(rt.block_on(load_sequential(&client(big), &opts)).expect("load"));
        sequential.push(t.elapsed());
        seq_requests = big.requests() - before;
    }
    let (snap_med, _) = time(3, || loaded.snapshot(&FieldChoice::default()).expect("snapshot"));
    let (c, s) = (median(concurrent), median(sequential));
    println!(
        "  concurrent loader: {} median of {runs} ({requests} requests, {} people); sequential baseline: {} ({seq_requests} requests); \
         then Snapshot: {}",
        secs(c),
        loaded.directory.people.len(),
        secs(s),
        ms(snap_med),
    );
    b.figure(
        "load 100k users from the sandbox",
        "≤ 3 s",
        format!("{} ({requests} requests) + snapshot {}", secs(c), ms(snap_med)),
        format!("sequential {}", secs(s)),
        Some(c + snap_med <= Duration::from_secs(3)),
    );
    // The snapshot cache: what a restart reads before the fresh load is back.
    let dir = tempfile::tempdir().expect("temporary directory");
    let t = Instant::now();
    let path = dir.path().join("snapshot.cache");
    groupmap::store::cache::write(&path, &loaded).expect("cache write");
    let write = t.elapsed();
    let size = std::fs::metadata(&path).map_or(0, |m| m.len());
    let (read, _) =
        time(3, || groupmap::store::cache::read(&path, loaded.base_url(), loaded.uri()).expect("cache read"));
    // The baseline: the same people and export records as JSON arrays (the format before).
    let people: Vec<(&str, &str, &str, Option<&str>)> =
        loaded.directory.people.iter().map(|p| (&*p.uri, &*p.name, &*p.email, p.group.as_deref())).collect();
    let records: Vec<Vec<(u64, Vec<&str>)>> =
        loaded.exports.iter().map(|e| e.records.iter().map(|(l, r)| (*l, r.iter().collect())).collect()).collect();
    let json = serde_json::to_vec(&(people, records)).expect("json");
    type Json = (Vec<(String, String, String, Option<String>)>, Vec<Vec<(u64, Vec<String>)>>);
    let (json_read, _) = time(3, || serde_json::from_slice::<Json>(&json).expect("json"));
    // A restart: the file read, the editor given it, the first frame drawn.
    let (restart, restart_max) = time(3, || {
        let t = Instant::now();
        let cached = groupmap::store::cache::read_checked(&path, loaded.base_url(), loaded.uri())
            .expect("a usable cache")
            .expect("this organization's cache");
        let mut m = Model::new(true, FieldChoice::default());
        update(&mut m, Msg::Resize(160, 48));
        groupmap::app::update::start_load(&mut m);
        update(&mut m, Msg::Cached { loaded: Arc::new(cached.organization), age_secs: 5 });
        assert!(m.has_data() && m.stale.is_some(), "the cached organization is on screen");
        let mut s = Counted::new(160, 48);
        s.frame(&m);
        std::hint::black_box(&m);
        t.elapsed()
    });
    println!(
        "  snapshot cache: write {}, read {} ({:.1} MB file); restart to the first usable frame (read, snapshot, \
         plan, first frame) {} median, {} max",
        ms(write),
        ms(read),
        size as f64 / 1e6,
        ms(restart),
        ms(restart_max),
    );
    b.figure(
        "restart: cached 100k snapshot, first usable frame",
        "≤ 300 ms",
        format!("{} ({} read, {:.0} MB file)", ms(restart), ms(read), size as f64 / 1e6),
        format!(
            "JSON of the same people and rows: decode alone {} ({:.0} MB); fresh load {}",
            ms(json_read),
            json.len() as f64 / 1e6,
            secs(c + snap_med)
        ),
        Some(restart <= Duration::from_millis(300)),
    );
    Arc::new(loaded)
}

fn bench_rate_limit(rt: &tokio::runtime::Runtime, b: &mut Bench) {
    // About 550 requests: a bit over one window of 500.
    const USERS: usize = 28_000;
    const LIMIT: u64 = 500;
    println!("\n## load under the 500 requests/minute limit ({USERS} users)");
    let free = rt.block_on(Sandbox::start(sandbox_opts(USERS, u32::MAX))).expect("sandbox");
    let t = Instant::now();
    rt.block_on(Engine::calendly(client(&free), &LoadOptions::default()).load(None)).expect("load");
    let free_time = t.elapsed();
    let free_requests = free.requests();
    rt.block_on(free.shutdown());

    let sb = rt.block_on(Sandbox::start(sandbox_opts(USERS, LIMIT as u32))).expect("sandbox");
    let t = Instant::now();
    rt.block_on(Engine::calendly(client(&sb), &LoadOptions::default()).load(None)).expect("load");
    let wall = t.elapsed();
    let (n, limited) = (sb.requests(), sb.rate_limited());
    rt.block_on(sb.shutdown());
    // Full windows must pass before the last partial one; its requests then take their share of
    // the unthrottled time.
    let windows = n.div_ceil(LIMIT);
    let tail = free_time.mul_f64((n - (windows - 1) * LIMIT) as f64 / free_requests.max(1) as f64);
    let floor = Duration::from_secs(60 * (windows - 1)) + tail;
    let over = wall.as_secs_f64() / floor.as_secs_f64() - 1.0;
    println!(
        "  {n} requests, {limited} answered 429, wall {}; floor {} ((ceil({n}/{LIMIT}) − 1) × 60 s + tail {}); {:+.1} % over; \
         unthrottled: {} for {free_requests} requests",
        secs(wall),
        secs(floor),
        secs(tail),
        over * 100.0,
        secs(free_time),
    );
    b.figure(
        &format!("load under 500 req/min ({n} requests)"),
        "≤ floor + 10 %, no 429",
        format!("{} ({:+.1} %), {limited} × 429", secs(wall), over * 100.0),
        format!("floor {}", secs(floor)),
        Some(over <= 0.10 && limited == 0),
    );
}

fn status_kb(field: &str) -> u64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    s.lines()
        .find_map(|l| l.strip_prefix(field)?.trim_start_matches(':').trim().strip_suffix("kB")?.trim().parse().ok())
        .unwrap_or(0)
}

/// In a fresh process (so that nothing the benchmark did before counts): load the organization
/// the parent serves, build the editor's model, and print the peak RSS at each step.
fn rss_child() {
    let base = std::env::var("GROUPMAP_BENCH_BASE").expect("base");
    let token = std::env::var("GROUPMAP_BENCH_TOKEN").expect("token");
    let rt = tokio::runtime::Runtime::new().expect("tokio runtime");
    println!("rss start {}", status_kb("VmHWM"));
    let client = Client::new(&base, Secret::new(token)).expect("client");
    let loaded =
        Arc::new(rt.block_on(Engine::calendly(client.clone(), &LoadOptions::default()).load(None)).expect("load"));
    println!("rss loaded {}", status_kb("VmHWM"));
    let mut m = ready_model(loaded, (160, 48));
    println!("rss editor {}", status_kb("VmHWM"));
    with_mapping(&mut m);
    update(&mut m, key(KeyCode::Char('p')));
    println!("rss preview {}", status_kb("VmHWM"));
    println!("rss current {}", status_kb("VmRSS"));
    std::hint::black_box(&m);
}

fn bench_rss(b: &mut Bench, big: &Sandbox) {
    println!("\n## memory: a fresh process loads the 100k-user organization and opens the editor");
    let out = std::process::Command::new(std::env::current_exe().expect("exe"))
        .env(RSS_CHILD, "1")
        .env("GROUPMAP_BENCH_BASE", big.base_url())
        .env("GROUPMAP_BENCH_TOKEN", big.token())
        .output()
        .expect("run the measuring child");
    let text = String::from_utf8_lossy(&out.stdout);
    let get = |label: &str| -> u64 {
        text.lines()
            .find_map(|l| l.strip_prefix(&format!("rss {label} "))?.trim().parse().ok())
            .unwrap_or_else(|| panic!("child printed no {label}: {text}{}", String::from_utf8_lossy(&out.stderr)))
    };
    let mb = |kb: u64| format!("{:.1} MB", kb as f64 / 1024.0);
    let (start, loaded, editor, preview, current) =
        (get("start"), get("loaded"), get("editor"), get("preview"), get("current"));
    println!(
        "  peak RSS (VmHWM): at start {}, after the load {}, with the editor ready {}, with a 100k-line preview open {}; \
         RSS at the end {}",
        mb(start),
        mb(loaded),
        mb(editor),
        mb(preview),
        mb(current)
    );
    b.figure(
        "peak RSS, 100k users, editor ready",
        "≤ 64 MB",
        format!("{} ({:.0} B a user)", mb(editor), (editor - start) as f64 * 1024.0 / 100_000.0),
        format!("empty process {}; loaded {}", mb(start), mb(loaded)),
        Some(editor <= 64 * 1024),
    );
    b.figure(
        "peak RSS, 100k users, 100k-line preview open",
        "≤ 72 MB",
        mb(preview),
        format!("editor ready {}", mb(editor)),
        Some(preview <= 72 * 1024),
    );
    let (plan_kb, plan_wall) = plan_process(big);
    b.figure(
        "peak RSS, `groupmap plan`, 100k users",
        "≤ 64 MB",
        format!("{} ({} wall)", mb(plan_kb), secs(plan_wall)),
        format!("empty process {}", mb(start)),
        Some(plan_kb <= 64 * 1024),
    );
}

/// `groupmap plan` against the sandbox as its own process: its peak RSS (kB, from the kernel's
/// accounting of that child alone) and wall time.
fn plan_process(sb: &Sandbox) -> (u64, Duration) {
    let home = tempfile::tempdir().expect("temporary directory");
    let t = Instant::now();
    // Through a fresh copy of this (small) program: a child forked from this big process would
    // be charged this process's RSS up to its exec.
    let child = std::process::Command::new(std::env::current_exe().expect("exe"))
        .env(WAIT_CHILD, env!("CARGO_BIN_EXE_groupmap"))
        .env("GROUPMAP_BASE_URL", sb.base_url())
        .env("CALENDLY_TOKEN", sb.token())
        .env("XDG_STATE_HOME", home.path().join("state"))
        .env("XDG_CONFIG_HOME", home.path().join("config"))
        .env("XDG_CACHE_HOME", home.path().join("cache"))
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .output()
        .expect("run groupmap plan");
    let wall = t.elapsed();
    let text = String::from_utf8_lossy(&child.stdout);
    let (kb, code) = text
        .split_once(' ')
        .and_then(|(kb, code)| Some((kb.parse::<u64>().ok()?, code.trim().parse::<i32>().ok()?)))
        .unwrap_or_else(|| panic!("the measuring child printed {text:?}"));
    assert!(code == 0 || code == 2, "groupmap plan exited {code}");
    println!("  `groupmap plan` (its own process): peak RSS {:.1} MB, {} wall", kb as f64 / 1024.0, secs(wall));
    (kb, wall)
}

/// In a fresh process: runs `groupmap plan` (its path in WAIT_CHILD), prints its peak RSS in kB
/// and its exit code.
// The child is reaped by `wait_rss` (wait4), which clippy cannot see.
#[allow(clippy::zombie_processes)]
fn wait_child(bin: &str) {
    let child = std::process::Command::new(bin)
        .arg("plan")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("run groupmap plan");
    let (kb, code) = wait_rss(child.id());
    println!("{kb} {code}");
}

/// Waits for the child `pid`; its peak RSS in kB and exit code.
fn wait_rss(pid: u32) -> (u64, i32) {
    let mut status = 0;
    // SAFETY: a zeroed rusage is a valid value for wait4 to fill in.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: pid is our own child, not yet waited for; both pointers are to live locals.
    let r = unsafe { libc::wait4(pid as libc::pid_t, &mut status, 0, &mut usage) };
    assert_eq!(r, pid as libc::pid_t, "wait4");
    (usage.ru_maxrss as u64, libc::WEXITSTATUS(status))
}

/// A terminal output that counts the bytes written to it.
#[derive(Clone, Default)]
struct CountingWriter(Arc<AtomicU64>);

impl Write for CountingWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.fetch_add(buf.len() as u64, Ordering::Relaxed);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

struct Counted<B: ratatui::backend::Backend = groupmap::redraw::Compact<CountingWriter>> {
    screen: groupmap::redraw::Screen<B>,
    out: CountingWriter,
    theme: Theme,
}

impl Counted {
    /// The terminal as the runtime has it.
    fn new(w: u16, h: u16) -> Counted {
        Counted::with(w, h, groupmap::redraw::Compact::new)
    }
}

impl<B: ratatui::backend::Backend> Counted<B> {
    fn with(w: u16, h: u16, backend: impl FnOnce(CountingWriter) -> B) -> Counted<B> {
        let out = CountingWriter::default();
        let backend = backend(out.clone());
        let term =
            Terminal::with_options(backend, TerminalOptions { viewport: Viewport::Fixed(Rect::new(0, 0, w, h)) })
                .expect("terminal");
        Counted { screen: groupmap::redraw::Screen::new(term), out, theme: Theme { color: true } }
    }

    /// Draws one frame as the runtime does (inside a synchronized update); the bytes written.
    fn frame(&mut self, m: &Model) -> u64 {
        let before = self.out.0.load(Ordering::Relaxed);
        crossterm::queue!(self.out, crossterm::terminal::BeginSynchronizedUpdate).expect("write");
        self.screen.draw(|f| view(m, f, &self.theme)).expect("draw");
        crossterm::execute!(self.out, crossterm::terminal::EndSynchronizedUpdate).expect("write");
        self.out.0.load(Ordering::Relaxed) - before
    }

    /// Each message, then a frame; a filter the message starts off the input path is worked
    /// at once and its answer drawn in a second frame, as the runtime draws it when it lands.
    /// The bytes of each message's frames.
    fn run(&mut self, m: &mut Model, msgs: &[Msg]) -> Vec<u64> {
        msgs.iter().map(|msg| self.step(m, msg.clone())).collect()
    }

    /// One message and its frames (see `run`); the bytes written.
    fn step(&mut self, m: &mut Model, msg: Msg) -> u64 {
        let effects = update(m, msg);
        let mut bytes = self.frame(m);
        for effect in effects {
            if let Some(answer) = groupmap::app::update::filter_work(effect, &|| false) {
                update(m, answer);
                bytes += self.frame(m);
            }
        }
        bytes
    }
}

fn stats(v: &[u64]) -> (u64, f64) {
    (v.iter().copied().max().unwrap_or(0), v.iter().sum::<u64>() as f64 / v.len().max(1) as f64)
}

/// Bytes of the first frame, then the most and the mean of: a cursor move in the values pane,
/// a filter keystroke there, the same in the preview; each keystroke's bytes.
struct RenderBytes {
    first: u64,
    values_moves: Vec<u64>,
    values_filter: Vec<u64>,
    preview_moves: Vec<u64>,
    preview_filter: Vec<u64>,
    preview_lines: usize,
}

fn render_bytes<B: ratatui::backend::Backend>(loaded: Arc<Organization>, mut s: Counted<B>) -> RenderBytes {
    let mut m = ready_model(loaded, (160, 48));
    let first = s.frame(&m);
    let moves: Vec<Msg> =
        (0..60).map(|i| if i % 2 == 0 { key(KeyCode::Char('j')) } else { key(KeyCode::Down) }).collect();
    let filter_keys: Vec<Msg> =
        std::iter::once(key(KeyCode::Char('/'))).chain(QUERY.chars().map(|c| key(KeyCode::Char(c)))).collect();
    let values_moves = s.run(&mut m, &moves);
    let values_filter = s.run(&mut m, &filter_keys)[1..].to_vec();
    s.run(&mut m, &[key(KeyCode::Esc), key(KeyCode::Esc)]);
    with_mapping(&mut m);
    s.frame(&m);
    s.run(&mut m, &[key(KeyCode::Char('p'))]);
    let preview_moves = s.run(&mut m, &moves);
    let preview_filter = s.run(&mut m, &filter_keys)[1..].to_vec();
    RenderBytes {
        first,
        values_moves,
        values_filter,
        preview_moves,
        preview_filter,
        preview_lines: m.preview_lines.len(),
    }
}

fn bench_render(b: &mut Bench, loaded: Arc<Organization>) {
    println!("\n## bytes written to the terminal per frame (160×48), after the first frame");
    let r = render_bytes(loaded.clone(), Counted::new(160, 48));
    // The baseline: the same frames through crossterm's own backend.
    let base = render_bytes(loaded, Counted::with(160, 48, ratatui::backend::CrosstermBackend::new));
    let list = |v: &[u64]| v.iter().map(u64::to_string).collect::<Vec<_>>().join(" ");
    for (name, r) in [("groupmap's backend", &r), ("crossterm's backend (baseline)", &base)] {
        let ((vm, vmean), (pm, pmean)) = (stats(&r.values_moves), stats(&r.preview_moves));
        let ((vf, vfmean), (pf, pfmean)) = (stats(&r.values_filter), stats(&r.preview_filter));
        println!("  {name}: first frame {} B (a full repaint)", r.first);
        println!(
            "    cursor move, IdP values: max {vm} B, mean {vmean:.0} B; preview ({} lines): max {pm} B, mean {pmean:.0} B",
            r.preview_lines
        );
        println!("    filter keystroke, IdP values: max {vf} B, mean {vfmean:.0} B ({})", list(&r.values_filter));
        println!("    filter keystroke, preview: max {pf} B, mean {pfmean:.0} B ({})", list(&r.preview_filter));
    }
    let max = |v: &[u64]| stats(v).0;
    let (vm, pm, vf, pf) = (max(&r.values_moves), max(&r.preview_moves), max(&r.values_filter), max(&r.preview_filter));
    b.figure(
        "bytes per cursor move, 160×48",
        "≤ 2 KB",
        format!("max {vm} B (values), {pm} B (preview)"),
        format!(
            "crossterm's backend: {} B, {} B; full repaint {} B",
            max(&base.values_moves),
            max(&base.preview_moves),
            r.first
        ),
        Some(vm.max(pm) <= 2048),
    );
    b.figure(
        "bytes per filter keystroke, 160×48",
        "≤ 2 KB",
        format!("max {vf} B (values), {pf} B (preview)"),
        format!(
            "crossterm's backend: {} B, {} B; full repaint {} B",
            max(&base.values_filter),
            max(&base.preview_filter),
            r.first
        ),
        Some(vf.max(pf) <= 2048),
    );
}
