//! Tokens of a `$filter` expression.

use crate::domain::GraphDateTime;

#[derive(Debug, Clone, PartialEq)]
pub enum Token {
    /// A name: property, lambda variable, keyword or function.
    Name(String),
    /// A single-quoted string, `''` already turned into `'`.
    Text(String),
    /// A typed enum literal, `microsoft.graph.vppTokenState'valid'`.
    Enum {
        type_name: String,
        member: String,
    },
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

impl Token {
    /// A value written in the expression: string, typed enum, date-time or number.
    pub fn is_literal(&self) -> bool {
        matches!(
            self,
            Token::Text(_) | Token::Enum { .. } | Token::DateTime(_) | Token::Number(_)
        )
    }
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
            '\'' => tokens.push(Token::Text(quoted(&mut chars, start)?)),
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
                let name = input[start..end].to_owned();
                // `microsoft.graph.vppTokenState'valid'`: a name glued to a string is a typed
                // enum literal.
                if chars.peek().map(|&(_, c)| c) == Some('\'') {
                    let member = quoted(&mut chars, end)?;
                    tokens.push(Token::Enum {
                        type_name: name,
                        member,
                    });
                } else {
                    tokens.push(Token::Name(name));
                }
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

/// Reads the single-quoted string that starts at byte `start` (the opening quote), turning `''`
/// into `'`.
fn quoted(
    chars: &mut std::iter::Peekable<std::str::CharIndices<'_>>,
    start: usize,
) -> Result<String, String> {
    chars.next();
    let mut text = String::new();
    loop {
        match chars.next() {
            Some((_, '\'')) if chars.peek().map(|&(_, c)| c) == Some('\'') => {
                chars.next();
                text.push('\'');
            }
            Some((_, '\'')) => return Ok(text),
            Some((_, c)) => text.push(c),
            None => {
                return Err(format!(
                    "the string starting at position {start} is not closed"
                ));
            }
        }
    }
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
        assert_eq!(
            tokenize("microsoft.graph.vppTokenState'it''s'"),
            Ok(vec![Token::Enum {
                type_name: "microsoft.graph.vppTokenState".into(),
                member: "it's".into()
            }])
        );
        assert!(tokenize("microsoft.graph.vppTokenState'open").is_err());
        assert!(tokenize("state eq #").is_err());
    }
}
