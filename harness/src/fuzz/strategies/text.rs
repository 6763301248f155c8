//! Text the way people (and attackers) write it: words, mentions, emoji and
//! their ZWJ sequences, right-to-left scripts and bidi controls, combining
//! marks, zero-width characters, markdown and code blocks, and long runs.
//!
//! A message is a list of segments joined by spaces, so shrinking first
//! drops whole segments and then simplifies the ones that matter: a crash
//! on one character ends as that character, a length limit as a run of
//! exactly the length that trips it.

use proptest::{
    collection::vec,
    prelude::*,
    sample::select,
    strategy::{BoxedStrategy, Union},
};

use super::Profile;

/// Options with their weights; options weighted 0 are left out, so one
/// table can serve both profiles.
pub(crate) fn weighted<T: std::fmt::Debug + 'static>(
    options: Vec<(u32, BoxedStrategy<T>)>,
) -> BoxedStrategy<T> {
    let options: Vec<_> = options.into_iter().filter(|(w, _)| *w > 0).collect();
    Union::new_weighted(options).boxed()
}

/// Strings matching a regular expression, compiled once (a `&str`
/// strategy compiles its pattern for every value).
pub(crate) fn pattern(regex: &str) -> BoxedStrategy<String> {
    proptest::string::string_regex(regex)
        .unwrap_or_else(|err| panic!("invalid pattern {regex:?}: {err}"))
        .boxed()
}

/// `realistic` in the realistic profile, `edge` in the edge-heavy one.
pub(crate) fn w(profile: Profile, realistic: u32, edge: u32) -> u32 {
    match profile {
        Profile::Realistic => realistic,
        Profile::Edge => edge,
    }
}

/// A chat message. Every list of segments may shrink down to one segment
/// (a minimum above that would keep segments a failure does not need).
pub fn message(profile: Profile) -> BoxedStrategy<String> {
    let segments = || segment(profile);
    weighted(vec![
        (w(profile, 1, 2), Just(String::new()).boxed()),
        (20, vec(segments(), 1..=6).prop_map(join).boxed()),
        (
            w(profile, 3, 8),
            vec(segments(), 1..=24).prop_map(join).boxed(),
        ),
    ])
}

/// A short text: a name, a header, a title.
pub fn short_text(profile: Profile) -> BoxedStrategy<String> {
    weighted(vec![
        (6, word().boxed()),
        (2, vec(word(), 2..=4).prop_map(join).boxed()),
        (w(profile, 1, 4), segment(profile)),
        (w(profile, 0, 1), Just(String::new()).boxed()),
    ])
}

fn join(parts: Vec<String>) -> String {
    parts.join(" ")
}

fn segment(profile: Profile) -> BoxedStrategy<String> {
    weighted(vec![
        (w(profile, 40, 10), word().boxed()),
        (w(profile, 5, 4), mention().boxed()),
        (w(profile, 2, 2), channel_link().boxed()),
        (w(profile, 4, 3), emoji_shortcode().boxed()),
        (w(profile, 4, 6), emoji().boxed()),
        (w(profile, 3, 6), rtl_text().boxed()),
        (w(profile, 1, 8), bidi_control().boxed()),
        (w(profile, 2, 6), combining(profile)),
        (w(profile, 2, 6), zero_width().boxed()),
        (w(profile, 5, 4), markdown().boxed()),
        (w(profile, 2, 3), code_block(profile)),
        (w(profile, 2, 2), url().boxed()),
        (w(profile, 3, 3), whitespace().boxed()),
        (w(profile, 3, 6), long_run(profile)),
        (w(profile, 0, 6), any_unicode().boxed()),
    ])
}

const WORDS: &[&str] = &[
    "hello",
    "hi",
    "the",
    "meeting",
    "is",
    "at",
    "noon",
    "thanks!",
    "ok",
    "deploy",
    "failed",
    "again?",
    "LGTM",
    "see",
    "PR",
    "#1234",
    "v10.11.0",
    "3.14",
    "-42",
    "can't",
    "don't",
    "café",
    "naïve",
    "straße",
    "Ελληνικά",
    "Привет",
    "日本語",
    "中文",
    "한국어",
    "ไทย",
    "हिन्दी",
    "badword",
    "BadWord",
    "lunch",
    "release",
    "tomorrow",
    "ASAP",
    "/hello",
    "e=mc²",
    "50%",
    "a&b",
    "<tag>",
    "\"quoted\"",
    "'single'",
    "path/to/file.txt",
    "C:\\Windows",
    "user@example.com",
    "+1-555-0100",
];

fn word() -> impl Strategy<Value = String> {
    weighted(vec![
        (8, select(WORDS).prop_map(str::to_owned).boxed()),
        (2, pattern("[a-z]{1,12}")),
    ])
}

fn mention() -> impl Strategy<Value = String> {
    weighted(vec![
        (
            4,
            select(
                &[
                    "@alice",
                    "@bob",
                    "@admin",
                    "@helper-bot",
                    "@all",
                    "@here",
                    "@channel",
                ][..],
            )
            .prop_map(str::to_owned)
            .boxed(),
        ),
        (1, pattern("@[a-z][a-z0-9._-]{0,21}")),
    ])
}

fn channel_link() -> impl Strategy<Value = String> {
    select(&["~town-square", "~off-topic", "~secret", "~does-not-exist"][..])
        .prop_map(str::to_owned)
}

fn emoji_shortcode() -> impl Strategy<Value = String> {
    select(
        &[
            ":smile:",
            ":+1:",
            ":-1:",
            ":white_check_mark:",
            ":party-parrot:",
            ":flag-fr:",
            ":skin-tone-3:",
            ":not_an_emoji:",
            "::",
        ][..],
    )
    .prop_map(str::to_owned)
}

/// Emoji, including sequences joined with U+200D (ZWJ), skin tones, flags,
/// keycaps, tag sequences, and broken pieces of them.
const EMOJI: &[&str] = &[
    "😀",
    "👍",
    "👍🏽",
    "❤️",
    "🎉",
    "👨\u{200D}👩\u{200D}👧\u{200D}👦",
    "🏳️\u{200D}🌈",
    "👩🏽\u{200D}💻",
    "🧑\u{200D}🤝\u{200D}🧑",
    "❤️\u{200D}🔥",
    "😶\u{200D}🌫️",
    "🇫🇷",
    "🇯🇵",
    "1️⃣",
    "🏴\u{E0067}\u{E0062}\u{E0073}\u{E0063}\u{E0074}\u{E007F}",
    // Broken: a dangling joiner, a lone regional indicator, a lone skin
    // tone modifier, a lone variation selector.
    "👩\u{200D}",
    "🇫",
    "🏽",
    "\u{FE0F}",
];

fn emoji() -> impl Strategy<Value = String> {
    select(EMOJI).prop_map(str::to_owned)
}

fn rtl_text() -> impl Strategy<Value = String> {
    select(
        &[
            "שלום עולם",
            "مرحبا بالعالم",
            "سلام ۱۲۳ دنیا",
            "עברית with English",
            "العربية 123 mixed",
            "ܫܠܡܐ",
            "ދިވެހި",
        ][..],
    )
    .prop_map(str::to_owned)
}

/// Directional formatting characters: marks, embeddings, overrides
/// (U+202E RIGHT-TO-LEFT OVERRIDE is the one behind spoofed file names),
/// isolates.
const BIDI_CONTROLS: &[char] = &[
    '\u{200E}', '\u{200F}', '\u{061C}', '\u{202A}', '\u{202B}', '\u{202C}', '\u{202D}', '\u{202E}',
    '\u{2066}', '\u{2067}', '\u{2068}', '\u{2069}',
];

/// A directional control inside text; often the classic spoof, "invoice" +
/// RLO + "fdp.exe", which displays as "invoiceexe.pdf". Every part but the
/// control shrinks away.
fn bidi_control() -> impl Strategy<Value = String> {
    let control = weighted(vec![
        (3, select(BIDI_CONTROLS).boxed()),
        (1, Just('\u{202E}').boxed()),
    ]);
    (
        proptest::option::weighted(0.3, word()),
        control,
        pattern("[a-z]{0,6}"),
        proptest::option::weighted(0.3, select(&[".exe", ".js", ".scr"][..])),
    )
        .prop_map(|(before, control, after, extension)| {
            format!(
                "{}{control}{after}{}",
                before.unwrap_or_default(),
                extension.unwrap_or_default()
            )
        })
}

/// A letter followed by combining marks; in the edge profile, "Zalgo"
/// stacks of dozens, and marks with no letter to combine with.
fn combining(profile: Profile) -> BoxedStrategy<String> {
    let marks = || {
        prop_oneof![
            0x0300u32..=0x036F,
            0x1AB0u32..=0x1AFF,
            0x1DC0u32..=0x1DFF,
            0x20D0u32..=0x20FF,
        ]
        .prop_map(|code| char::from_u32(code).unwrap_or('\u{0301}'))
    };
    let most = match profile {
        Profile::Realistic => 3,
        Profile::Edge => 64,
    };
    weighted(vec![
        (
            4,
            (
                select(&['e', 'a', 'o', 'n', 'Z', 'ש', 'ก'][..]),
                vec(marks(), 1..=most),
            )
                .prop_map(|(base, marks)| std::iter::once(base).chain(marks).collect())
                .boxed(),
        ),
        (
            w(profile, 0, 1),
            vec(marks(), 1..=4)
                .prop_map(|marks| marks.into_iter().collect())
                .boxed(),
        ),
    ])
}

const ZERO_WIDTH: &[char] = &[
    '\u{200B}', '\u{200C}', '\u{200D}', '\u{2060}', '\u{FEFF}', '\u{00AD}', '\u{180E}',
];

/// A zero-width character on its own or hidden inside a word ("bad\u{200B}word").
fn zero_width() -> impl Strategy<Value = String> {
    prop_oneof![
        select(ZERO_WIDTH).prop_map(String::from),
        (word(), select(ZERO_WIDTH), word()).prop_map(|(a, zw, b)| format!("{a}{zw}{b}")),
    ]
}

const MARKDOWN: &[&str] = &[
    "**{}**",
    "_{}_",
    "`{}`",
    "~~{}~~",
    "[{}](https://example.com/{})",
    "> {}",
    "# {}",
    "- {}\n- {}",
    "1. {}\n2. {}",
    "| a | b |\n|---|---|\n| {} | {} |",
    "![{}](https://example.com/image.png)",
    "$$ {} $$",
    "<b>{}</b>",
    "\\*{}\\*",
    "***",
    "[{}]",
    "**{}",
];

fn markdown() -> impl Strategy<Value = String> {
    (select(MARKDOWN), word()).prop_map(|(template, word)| template.replace("{}", &word))
}

const CODE_LINES: &[&str] = &[
    "fn main() { println!(\"hi\"); }",
    "print('hello')",
    "{\"key\": [1, 2, {\"nested\": null}]}",
    "    indented",
    "\t\ttabs",
    "<script>alert(1)</script>",
    "SELECT * FROM Users; -- '",
    "${jndi:ldap://example.com/a}",
    "```",
];

fn code_block(profile: Profile) -> BoxedStrategy<String> {
    let lines = vec(select(CODE_LINES), 0..=6);
    let language = select(&["", "rust", "python", "json", "go", "diff", "💥"][..]);
    (language, lines, any::<bool>())
        .prop_map(move |(language, lines, closed)| {
            let mut block = format!("```{language}\n{}", lines.join("\n"));
            // An unterminated fence only in the edge profile: people close theirs.
            if closed || profile == Profile::Realistic {
                block.push_str("\n```");
            }
            block
        })
        .boxed()
}

fn url() -> impl Strategy<Value = String> {
    select(
        &[
            "https://mattermost.com",
            "http://localhost:8065/acme/pl/p0000000000000000000000101",
            "https://example.com/a?b=c&d=e#f",
            "mailto:alice@example.com",
            "https://例え.テスト/パス",
            "javascript:alert(1)",
            "https://example.com/%E2%80%AE%00",
            "<https://example.com>",
        ][..],
    )
    .prop_map(str::to_owned)
}

fn whitespace() -> impl Strategy<Value = String> {
    select(
        &[
            "\n", "\n\n", "\t", "\r\n", "   ", "\u{00A0}", "\u{2028}", "\u{3000}", "\r",
        ][..],
    )
    .prop_map(str::to_owned)
}

/// Texts a long run repeats; each is cut at a character, not a byte, so
/// the length shrinks one character at a time.
const FILLERS: &[&str] = &[
    "x",
    "lorem ipsum dolor sit amet ",
    "日本語のテキスト",
    "שלום ",
    "😀",
    "e\u{0301}",
];

/// A run of `len` characters: its length shrinks by binary search, so a
/// length limit is found exactly. Up to Mattermost's post limit (16383
/// characters) and a little beyond in the realistic profile; several MiB in
/// the edge profile.
fn long_run(profile: Profile) -> BoxedStrategy<String> {
    let run = |fillers: &'static [&'static str], lengths: BoxedStrategy<usize>| {
        (select(fillers), lengths).prop_map(|(filler, len)| run_of(filler, len))
    };
    weighted(vec![
        (6, run(FILLERS, (100usize..=4_000).boxed()).boxed()),
        (3, run(FILLERS, (4_001usize..=16_383).boxed()).boxed()),
        (1, run(FILLERS, (16_384usize..=70_000).boxed()).boxed()),
        // ASCII only, so 6 Mi characters stay 6 MiB.
        (
            w(profile, 0, 1),
            run(&FILLERS[..2], (70_001usize..=6 << 20).boxed()).boxed(),
        ),
    ])
}

/// The first `len` characters of `filler` repeated, built by copying
/// whole repetitions: several MiB a character at a time would cost more
/// than the call that sends them.
fn run_of(filler: &str, len: usize) -> String {
    let per_repeat = filler.chars().count().max(1);
    let mut run = filler.repeat(len / per_repeat);
    run.extend(filler.chars().take(len % per_repeat));
    run
}

/// Any Unicode scalar values, control characters (NUL included) and
/// noncharacters: what no person types but a client may send.
fn any_unicode() -> impl Strategy<Value = String> {
    prop_oneof![
        vec(any::<char>(), 1..=16).prop_map(|chars| chars.into_iter().collect()),
        pattern("[\\x00-\\x1f\\x7f]{1,4}"),
        select(
            &[
                "\u{FFFF}",
                "\u{FFFE}",
                "\u{10FFFF}",
                "\u{E000}",
                "\u{1D11E}"
            ][..]
        )
        .prop_map(str::to_owned),
    ]
}

/// A random 26-character id in Mattermost's alphabet.
pub fn random_id() -> BoxedStrategy<String> {
    pattern("[a-z0-9]{26}")
}

/// What an id field can hold when nobody checked it: empty, too short or
/// long, path-like, with NUL or injection attempts.
pub fn odd_id() -> impl Strategy<Value = String> {
    prop_oneof![
        select(
            &[
                "",
                "x",
                "ualice000000000000000000000",
                "../../etc/passwd",
                "ualice00000000000000000000\u{0}",
                "'; DROP TABLE Users; --",
                "ünïcödé",
                "\u{202E}ualice",
            ][..]
        )
        .prop_map(str::to_owned),
        pattern("\\PC{0,64}"),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::test_runner::TestRunner;

    fn samples(strategy: BoxedStrategy<String>, n: usize) -> Vec<String> {
        let mut runner = TestRunner::deterministic();
        (0..n)
            .map(|_| strategy.new_tree(&mut runner).unwrap().current())
            .collect()
    }

    #[test]
    fn messages_mix_scripts_controls_and_lengths() {
        let messages = samples(message(Profile::Realistic), 1000);
        let any = |f: &dyn Fn(&String) -> bool| messages.iter().any(f);
        assert!(any(&|m| m.contains('\u{202E}')));
        assert!(any(&|m| m.contains('\u{200D}')));
        assert!(any(&|m| m.contains("```")));
        assert!(any(&|m| m.chars().count() > 4000));
        assert!(any(&|m| m.is_empty()));
        // Realistic messages stay within what a server takes in one post, give or take.
        assert!(messages.iter().all(|m| m.len() < 2 << 20));
        let edge = samples(message(Profile::Edge), 300);
        assert!(edge.iter().any(|m| m.len() > 70_000), "no huge message");
    }

    #[test]
    fn runs_are_cut_at_characters() {
        assert_eq!(run_of("ab", 5), "ababa");
        assert_eq!(run_of("e\u{301}", 3), "e\u{301}e");
        assert_eq!(run_of("😀", 0), "");
    }

    #[test]
    fn a_long_run_shrinks_to_an_exact_length() {
        let mut runner = TestRunner::deterministic();
        let strategy = long_run(Profile::Realistic);
        let mut tree = loop {
            let tree = strategy.new_tree(&mut runner).unwrap();
            if tree.current().chars().count() > 5000 {
                break tree;
            }
        };
        // Shrink as proptest does, keeping what still has more than 4000 characters.
        let fails = |text: &String| text.chars().count() > 4000;
        while tree.simplify() {
            while !fails(&tree.current()) {
                if !tree.complicate() {
                    break;
                }
            }
        }
        assert_eq!(tree.current().chars().count(), 4001);
    }
}
