//! Tokens of a `$filter` expression.

use crate::domain::GraphDateTime;

#[derive(Debug, Clone, PartialEq)]
pub enum Token {
    /// A name: property, lambda variable, keyword or function.
    Name(String),
    /// A single-quoted string, `''` already turned into `'`.
    Text(String),
    /// An unquoted date-time literal.
    DateTime(GraphDateTime),
    /// An unquoted number (no vppToken property is numeric; kept for a precise error).
    Number(String),
    Open,
    Close,
    Comma,
    Slash,
    Colon,
}

/// Splits `input` into tokens, or says what could not be read and where.
pub fn tokenize(input: &str) -> Result<Vec<Token>, String> {
    let mut tokens = Vec::new();
    let mut chars = input.char_indices().peekable();
    while let Some(&(start, c)) = chars.peek() {
        match c {
            c if c.is_whitespace() => {
                chars.next();
            }
            '(' | ')' | ',' | '/' | ':' => {
                chars.next();
                tokens.push(match c {
                    '(' => Token::Open,
                    ')' => Token::Close,
                    ',' => Token::Comma,
                    '/' => Token::Slash,
                    _ => Token::Colon,
                });
            }
            '\'' => {
                chars.next();
                let mut text = String::new();
                loop {
                    match chars.next() {
                        Some((_, '\'')) if chars.peek().map(|&(_, c)| c) == Some('\'') => {
                            chars.next();
                            text.push('\'');
                        }
                        Some((_, '\'')) => break,
                        Some((_, c)) => text.push(c),
                        None => {
                            return Err(format!(
                                "the string starting at position {start} is not closed"
                            ));
                        }
                    }
                }
                tokens.push(Token::Text(text));
            }
            c if c.is_ascii_digit() || c == '-' => {
                let end = scan(&mut chars, |c| {
                    c.is_ascii_alphanumeric() || matches!(c, ':' | '.' | '+' | '-')
                });
                let word = &input[start..end];
                if let Some(instant) = GraphDateTime::parse(word) {
                    tokens.push(Token::DateTime(instant));
                } else if word
                    .trim_start_matches('-')
                    .chars()
                    .all(|c| c.is_ascii_digit() || c == '.')
                {
                    tokens.push(Token::Number(word.to_owned()));
                } else {
                    return Err(format!(
                        "'{word}' at position {start} is not a valid literal"
                    ));
                }
            }
            c if c.is_alphabetic() || c == '_' || c == '$' => {
                let end = scan(&mut chars, |c| {
                    c.is_alphanumeric() || matches!(c, '_' | '.' | '$')
                });
                tokens.push(Token::Name(input[start..end].to_owned()));
            }
            other => {
                return Err(format!(
                    "unexpected character '{other}' at position {start}"
                ));
            }
        }
    }
    Ok(tokens)
}

/// Advances while `accept` holds; returns the byte offset where it stopped.
fn scan(
    chars: &mut std::iter::Peekable<std::str::CharIndices<'_>>,
    accept: impl Fn(char) -> bool,
) -> usize {
    let mut end = 0;
    while let Some(&(index, c)) = chars.peek() {
        if !accept(c) {
            return index;
        }
        end = index + c.len_utf8();
        chars.next();
    }
    end
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_strings_dates_and_punctuation() {
        let tokens = tokenize(
            "startswith(displayName,'let''s') and lastSyncDateTime gt 2026-01-02T03:04:05Z",
        );
        assert_eq!(tokens.map(|t| t.len()), Ok(10),);
        assert_eq!(tokenize("'a''b'"), Ok(vec![Token::Text("a'b".into())]));
        assert!(tokenize("'open").is_err());
        assert!(tokenize("state eq #").is_err());
    }
}
