//! Untrusted text made safe for where peerscope prints it (issue 13, "escaped output").
//!
//! Ids, tag values, zone names and `why` texts of an intent, file names, and what change files
//! and plans say all come from files that someone else may have written. Printed raw, they could
//! recolour or drive a terminal (ANSI escape sequences), reorder what is shown (bidi overrides,
//! "Trojan Source"), forge whole lines of a verdict, or, in a pull-request comment, inject HTML,
//! images and links, and notify people (`@team`) or cross-reference issues (`#123`). Every
//! renderer passes such values through one of these functions at the point where it prints them:
//!
//! - [`terminal`]: for tables and text. Control characters (C0 — line breaks included — DEL and
//!   C1), bidi controls and invisible format characters become visible escapes (`\n`, `\x1b`,
//!   `\u{202e}`); everything else, non-ASCII letters included, is kept.
//! - [`terminal_lines`]: the same for a message of several lines, where `\n` stays a line break.
//! - [`markdown`]: text that GitHub-flavoured Markdown shows as it is, in a paragraph, a list
//!   item or a table cell: HTML's `<`, `>` and `&` as entities; the characters of inline markup
//!   (`` ` `` `*` `_` `~` `[` `]` `|` `$` `\`) backslash-escaped; a zero-width space after `@`
//!   and `#` so that no mention or issue reference is made (an entity such as `&#64;` would not
//!   do: GitHub links mentions in the rendered text, where entities are already decoded);
//!   line breaks as spaces; other control characters as in [`terminal`].
//! - [`markdown_code`] and [`markdown_code_in_table`]: a value as an inline code span that it
//!   cannot close early.
//!
//! JSON and SARIF need none of this: serde escapes what JSON must, and consumers get the exact
//! value. Graph renderers have their own quoting (`graph::dot::quote`, `graph::mermaid::text`)
//! and use [`is_unsafe`] for the same set of characters.

use std::borrow::Cow;
use std::fmt::Write as _;

/// Does a terminal act on `c`, or does `c` change how the text around it looks without being
/// seen itself? Control characters (C0, DEL, C1), bidi embeddings, overrides, isolates and
/// marks, zero-width characters, line and paragraph separators.
pub fn is_unsafe(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061C}'
                | '\u{200B}'..='\u{200F}'
                | '\u{2028}'..='\u{202E}'
                | '\u{2060}'..='\u{2064}'
                | '\u{2066}'..='\u{2069}'
                | '\u{FEFF}'
        )
}

/// Appends the visible escape of an unsafe character: `\n`, `\r`, `\t`, `\x1b`, `\u{202e}`.
fn push_escape(out: &mut String, c: char) {
    match c {
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        c if (c as u32) < 0x100 => {
            let _ = write!(out, "\\x{:02x}", c as u32);
        }
        c => {
            let _ = write!(out, "\\u{{{:04x}}}", c as u32);
        }
    }
}

fn escape_where(s: &str, unsafe_char: impl Fn(char) -> bool) -> Cow<'_, str> {
    if !s.chars().any(&unsafe_char) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if unsafe_char(c) {
            push_escape(&mut out, c);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// `s` for a terminal, on one line: every [unsafe](is_unsafe) character as a visible escape.
pub fn terminal(s: &str) -> Cow<'_, str> {
    escape_where(s, is_unsafe)
}

/// `s` for a terminal, keeping its line breaks (a message of several lines).
pub fn terminal_lines(s: &str) -> Cow<'_, str> {
    escape_where(s, |c| c != '\n' && is_unsafe(c))
}

/// `s` as Markdown text that renders as exactly `s` (up to line breaks, which become spaces,
/// and control characters, which become visible escapes), safe in a table cell.
pub fn markdown(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\\' | '`' | '*' | '_' | '~' | '[' | ']' | '|' | '$' => {
                out.push('\\');
                out.push(c);
            }
            '@' | '#' => {
                out.push(c);
                out.push_str("&#8203;");
            }
            '\n' | '\r' => out.push(' '),
            c if is_unsafe(c) => push_escape(&mut out, c),
            c => out.push(c),
        }
    }
    out
}

/// `s` as an inline code span, outside a table: fenced with one backtick more than the longest
/// run of backticks in it, padded with spaces when it starts or ends with one, so that nothing in
/// it can end the span; unsafe characters as visible escapes (a line break would end a list item).
pub fn markdown_code(s: &str) -> String {
    code(s, false)
}

/// [`markdown_code`] for a table cell, where `|` must be escaped even inside code.
pub fn markdown_code_in_table(s: &str) -> String {
    code(s, true)
}

fn code(s: &str, in_table: bool) -> String {
    let mut body = terminal(s).into_owned();
    if in_table {
        body = body.replace('|', "\\|");
    }
    let mut longest = 0;
    let mut run = 0;
    for c in body.chars() {
        run = if c == '`' { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    let fence = "`".repeat(longest + 1);
    let pad = if body.starts_with('`') || body.ends_with('`') || body.is_empty() {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{body}{pad}{fence}")
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOSTILE: &str =
        "<img src=x onerror=alert(1)> @admin #12 \u{1b}[31mRED\u{9b}2J \u{202e}evil\n|x|";

    #[test]
    fn terminal_shows_controls_and_bidi_as_escapes() {
        assert_eq!(terminal("vpc-1 é"), Cow::Borrowed("vpc-1 é"));
        assert_eq!(
            terminal(HOSTILE),
            "<img src=x onerror=alert(1)> @admin #12 \\x1b[31mRED\\x9b2J \\u{202e}evil\\n|x|"
        );
        assert_eq!(terminal_lines("a\u{1b}\nb"), "a\\x1b\nb");
        assert!(!terminal(HOSTILE).chars().any(is_unsafe));
    }

    #[test]
    fn markdown_is_inert() {
        assert_eq!(
            markdown(HOSTILE),
            "&lt;img src=x onerror=alert(1)&gt; @&#8203;admin #&#8203;12 \\x1b\\[31mRED\\x9b2J \\u{202e}evil \\|x\\|"
        );
        assert_eq!(
            markdown("![a](http://x) *b* _c_ ~d~ `e` $f$ \\g &amp;"),
            "!\\[a\\](http://x) \\*b\\* \\_c\\_ \\~d\\~ \\`e\\` \\$f\\$ \\\\g &amp;amp;"
        );
    }

    #[test]
    fn code_spans_cannot_be_closed_early() {
        assert_eq!(markdown_code("vpc-1"), "`vpc-1`");
        assert_eq!(markdown_code("a`b"), "``a`b``");
        assert_eq!(markdown_code("`x``"), "``` `x`` ```");
        assert_eq!(markdown_code("a|b\n"), "`a|b\\n`");
        assert_eq!(markdown_code_in_table("a|b"), "`a\\|b`");
    }
}
