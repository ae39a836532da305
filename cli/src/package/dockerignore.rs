//! `.dockerignore` with Docker's own semantics (moby's `patternmatcher`), not gitignore's.
//!
//! - Every pattern is anchored at the context root: `*.log` excludes `a.log`, not `d/a.log`
//!   (write `**/*.log` for any depth). A leading or trailing `/` is dropped, and the pattern
//!   is cleaned like a path (`./a//b/` is `a/b`).
//! - `*` and `?` stop at `/`; `**` matches any number of directories, none included.
//! - A pattern that matches a directory excludes everything under it.
//! - `!pattern` re-includes; the last pattern that matches a path decides.
//! - `#` starts a comment line; blank lines are skipped.
//!
//! Pure: the caller reads the file and lists the context.

use regex::Regex;

/// One parsed pattern.
#[derive(Debug, Clone)]
struct Pattern {
    /// Anchored regular expression for the cleaned pattern.
    regex: Regex,
    /// `!pattern`: a match re-includes the path.
    exception: bool,
}

/// The patterns of one `.dockerignore`, in file order.
#[derive(Debug, Clone, Default)]
pub struct DockerIgnore {
    patterns: Vec<Pattern>,
}

/// A pattern that cannot be used (for example an unclosed `[`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatternError {
    /// 1-based line in `.dockerignore`.
    pub line: usize,
    /// The pattern as written.
    pub pattern: String,
}

impl std::fmt::Display for PatternError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            ".dockerignore line {}: invalid pattern `{}`",
            self.line, self.pattern
        )
    }
}

impl std::error::Error for PatternError {}

impl DockerIgnore {
    /// Parses the text of a `.dockerignore` file.
    pub fn parse(text: &str) -> Result<DockerIgnore, PatternError> {
        let mut patterns = Vec::new();
        for (index, raw) in text.lines().enumerate() {
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (exception, body) = match line.strip_prefix('!') {
                Some(rest) => (true, rest.trim()),
                None => (false, line),
            };
            let error = || PatternError {
                line: index + 1,
                pattern: raw.to_owned(),
            };
            let cleaned = clean(body);
            if cleaned.is_empty() {
                if exception {
                    return Err(error());
                }
                continue;
            }
            let regex = Regex::new(&to_regex(&cleaned)).map_err(|_| error())?;
            patterns.push(Pattern { regex, exception });
        }
        Ok(DockerIgnore { patterns })
    }

    /// True when `path` (relative to the context, `/`-separated) is excluded: the last
    /// pattern that matches the path or one of its parent directories decides.
    pub fn is_excluded(&self, path: &str) -> bool {
        let parents: Vec<&str> = parent_paths(path);
        let mut excluded = false;
        for pattern in &self.patterns {
            // Like moby: an exclusion only matters while included, an exception only while excluded.
            if pattern.exception != excluded {
                continue;
            }
            let matched =
                pattern.regex.is_match(path) || parents.iter().any(|p| pattern.regex.is_match(p));
            if matched {
                excluded = !pattern.exception;
            }
        }
        excluded
    }
}

/// `a/b/c` → `["a", "a/b"]`.
fn parent_paths(path: &str) -> Vec<&str> {
    path.match_indices('/')
        .map(|(index, _)| &path[..index])
        .filter(|p| !p.is_empty())
        .collect()
}

/// Cleans a pattern like Go's `filepath.Clean`, then drops a leading `/`: duplicate and
/// trailing slashes go, `.` segments go, `..` removes the segment before it.
fn clean(pattern: &str) -> String {
    let mut segments: Vec<&str> = Vec::new();
    for segment in pattern.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                segments.pop();
            }
            other => segments.push(other),
        }
    }
    segments.join("/")
}

/// Translates a cleaned pattern to an anchored regular expression, as moby does.
fn to_regex(pattern: &str) -> String {
    let mut out = String::from("^");
    let chars: Vec<char> = pattern.chars().collect();
    let mut i = 0;
    while let Some(&ch) = chars.get(i) {
        i += 1;
        match ch {
            '*' if chars.get(i) == Some(&'*') => {
                i += 1;
                if chars.get(i) == Some(&'/') {
                    i += 1;
                }
                if i >= chars.len() {
                    out.push_str(".*");
                } else {
                    out.push_str("(.*/)?");
                }
            }
            '*' => out.push_str("[^/]*"),
            '?' => out.push_str("[^/]"),
            '\\' => match chars.get(i) {
                Some(&next) => {
                    i += 1;
                    out.push_str(&regex::escape(&next.to_string()));
                }
                None => out.push_str(r"\\"),
            },
            '[' => {
                out.push('[');
                if chars.get(i) == Some(&'!') || chars.get(i) == Some(&'^') {
                    i += 1;
                    out.push('^');
                }
            }
            ']' | '-' => out.push(ch),
            other => out.push_str(&regex::escape(&other.to_string())),
        }
    }
    out.push('$');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ignore(text: &str) -> DockerIgnore {
        match DockerIgnore::parse(text) {
            Ok(ignore) => ignore,
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn plain_patterns_are_anchored_at_the_root() {
        let i = ignore("*.log\n");
        assert!(i.is_excluded("a.log"));
        assert!(!i.is_excluded("sub/a.log"), "gitignore would exclude this");
    }

    #[test]
    fn double_star_matches_any_depth_including_none() {
        let i = ignore("**/*.log\n");
        assert!(i.is_excluded("a.log"));
        assert!(i.is_excluded("x/y/a.log"));
        let i = ignore("a/**/b\n");
        assert!(i.is_excluded("a/b"));
        assert!(i.is_excluded("a/x/y/b"));
        assert!(!i.is_excluded("c/a/b"));
        let all = ignore("**\n");
        assert!(all.is_excluded("anything/at/all"));
    }

    #[test]
    fn leading_and_trailing_slashes_do_not_change_the_meaning() {
        for text in ["/build\n", "build/\n", "./build\n", "/build/\n"] {
            let i = ignore(text);
            assert!(i.is_excluded("build"), "{text}");
            assert!(i.is_excluded("build/out/app.o"), "{text}");
            assert!(!i.is_excluded("src/build"), "{text}");
        }
    }

    #[test]
    fn a_directory_pattern_excludes_its_contents() {
        let i = ignore("node_modules\n");
        assert!(i.is_excluded("node_modules/x/index.js"));
        assert!(!i.is_excluded("node_modules_backup"));
    }

    #[test]
    fn exceptions_re_include_and_the_last_match_wins() {
        let i = ignore("docs\n!docs/keep.md\n");
        assert!(i.is_excluded("docs/other.md"));
        assert!(!i.is_excluded("docs/keep.md"));
        let reversed = ignore("!docs/keep.md\ndocs\n");
        assert!(
            reversed.is_excluded("docs/keep.md"),
            "a later exclusion wins"
        );
        let star = ignore("*.md\n!README*.md\nREADME-secret.md\n");
        assert!(star.is_excluded("CHANGES.md"));
        assert!(!star.is_excluded("README.md"));
        assert!(star.is_excluded("README-secret.md"));
    }

    #[test]
    fn single_star_and_question_mark_stop_at_slashes() {
        let i = ignore("*/temp*\ntemp?\n");
        assert!(i.is_excluded("somedir/temporary.txt"));
        assert!(!i.is_excluded("a/b/temporary.txt"));
        assert!(i.is_excluded("tempa"));
        assert!(!i.is_excluded("temp"));
    }

    #[test]
    fn comments_blank_lines_and_literal_dots() {
        let i = ignore("# comment\n\n  .git  \nfile.txt\n");
        assert!(i.is_excluded(".git/HEAD"));
        assert!(i.is_excluded("file.txt"));
        assert!(!i.is_excluded("fileXtxt"));
        assert!(!i.is_excluded("# comment"));
    }

    #[test]
    fn character_classes_and_negated_classes() {
        let i = ignore("[ab].txt\n[!c]x\n");
        assert!(i.is_excluded("a.txt"));
        assert!(!i.is_excluded("c.txt"));
        assert!(i.is_excluded("dx"));
        assert!(!i.is_excluded("cx"));
    }

    #[test]
    fn a_bad_pattern_names_its_line() {
        let err = DockerIgnore::parse("ok\n[unclosed\n").err();
        assert_eq!(err.map(|e| e.line), Some(2));
        assert!(DockerIgnore::parse("!\n").is_err());
    }
}
