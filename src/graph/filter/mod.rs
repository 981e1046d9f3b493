//! `$filter` (contract A.4): a recursive-descent parser straight to a typed tree, checked
//! against the version's properties. The store compiles the tree to SQL with bound values.
//!
//! Grammar (OData v4, the part vppTokens supports):
//! ```text
//! or      = and { "or" and }
//! and     = unary { "and" unary }
//! unary   = "not" unary | "(" or ")" | call | lambda | comparison | boolean-property
//! call    = ("startswith" | "endswith" | "contains") "(" subject "," string ")"
//! lambda  = "roleScopeTagIds" "/" ("any" | "all") "(" [ var ":" or ] ")"
//! comparison = operand ("eq" | "ne" | "gt" | "ge" | "lt" | "le") operand
//! ```
//! Hand-written rather than a combinator crate: the grammar is small, and the errors must name
//! the property or construct in Graph's words.

mod lexer;

use crate::domain::GraphDateTime;
use crate::domain::enums::{AccountType, DeliveryProtocol, SyncStatus, TokenState, WireEnum};
use crate::domain::properties::{self, ApiVersion, PropId, PropKind};
use lexer::Token;

/// Most nodes (comparisons, calls, operators) one filter may hold.
pub const MAX_NODES: usize = 100;
/// Deepest nesting of parentheses, `not` and lambdas.
pub const MAX_DEPTH: usize = 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
}

impl CmpOp {
    fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "eq" => CmpOp::Eq,
            "ne" => CmpOp::Ne,
            "gt" => CmpOp::Gt,
            "ge" => CmpOp::Ge,
            "lt" => CmpOp::Lt,
            "le" => CmpOp::Le,
            _ => return None,
        })
    }

    /// The operator with its sides swapped (`'a' lt x` is `x gt 'a'`).
    fn flipped(self) -> Self {
        match self {
            CmpOp::Gt => CmpOp::Lt,
            CmpOp::Ge => CmpOp::Le,
            CmpOp::Lt => CmpOp::Gt,
            CmpOp::Le => CmpOp::Ge,
            same => same,
        }
    }

    fn is_equality(self) -> bool {
        matches!(self, CmpOp::Eq | CmpOp::Ne)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextFn {
    StartsWith,
    EndsWith,
    Contains,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quantifier {
    Any,
    All,
}

/// What a comparison or function looks at: a column of the token, or the lambda's element.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subject {
    Property(PropId),
    ScopeTag,
}

/// A literal, already converted to the subject's type.
#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    Null,
    Text(String),
    Bool(bool),
    DateTime(GraphDateTime),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    And(Box<Filter>, Box<Filter>),
    Or(Box<Filter>, Box<Filter>),
    Not(Box<Filter>),
    Compare {
        subject: Subject,
        op: CmpOp,
        value: Literal,
    },
    Text {
        function: TextFn,
        subject: Subject,
        argument: String,
    },
    /// `roleScopeTagIds/any(...)` or `/all(...)`; `None` is `any()` (the collection is not empty).
    ScopeTags {
        quantifier: Quantifier,
        predicate: Option<Box<Filter>>,
    },
}

/// Parses and checks `text` against `version`'s properties; the error names what is wrong.
pub fn parse(text: &str, version: ApiVersion) -> Result<Filter, String> {
    let tokens = lexer::tokenize(text)?;
    let mut parser = Parser {
        tokens,
        position: 0,
        version,
        nodes: 0,
        depth: 0,
        lambda_var: None,
    };
    let filter = parser.or()?;
    match parser.peek() {
        None => Ok(filter),
        Some(token) => Err(format!(
            "unexpected {} after the end of the expression",
            describe(token)
        )),
    }
}

struct Parser {
    tokens: Vec<Token>,
    position: usize,
    version: ApiVersion,
    nodes: usize,
    depth: usize,
    /// The variable of the lambda being parsed, if any.
    lambda_var: Option<String>,
}

/// An operand before its type is known.
enum Operand {
    Subject(Subject),
    Literal(Token),
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.position)
    }

    fn next(&mut self) -> Option<Token> {
        let token = self.tokens.get(self.position).cloned();
        self.position += 1;
        token
    }

    fn peek_name(&self, keyword: &str) -> bool {
        matches!(self.peek(), Some(Token::Name(name)) if name == keyword)
    }

    fn expect_token(&mut self, expected: Token, what: &str) -> Result<(), String> {
        match self.next() {
            Some(token) if token == expected => Ok(()),
            Some(token) => Err(format!("expected {what}, found {}", describe(&token))),
            None => Err(format!("expected {what}, found the end of the expression")),
        }
    }

    fn node(&mut self) -> Result<(), String> {
        self.nodes += 1;
        if self.nodes > MAX_NODES {
            return Err(format!("the expression has more than {MAX_NODES} terms"));
        }
        Ok(())
    }

    fn nested<T>(
        &mut self,
        inner: impl FnOnce(&mut Self) -> Result<T, String>,
    ) -> Result<T, String> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(format!(
                "the expression is nested deeper than {MAX_DEPTH} levels"
            ));
        }
        let result = inner(self);
        self.depth -= 1;
        result
    }

    fn or(&mut self) -> Result<Filter, String> {
        let mut left = self.and()?;
        while self.peek_name("or") {
            self.next();
            self.node()?;
            left = Filter::Or(Box::new(left), Box::new(self.and()?));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Filter, String> {
        let mut left = self.unary()?;
        while self.peek_name("and") {
            self.next();
            self.node()?;
            left = Filter::And(Box::new(left), Box::new(self.unary()?));
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<Filter, String> {
        if self.peek_name("not") {
            self.next();
            self.node()?;
            return self.nested(|p| Ok(Filter::Not(Box::new(p.unary()?))));
        }
        if self.peek() == Some(&Token::Open) {
            self.next();
            let inner = self.nested(Self::or)?;
            self.expect_token(Token::Close, "')'")?;
            return Ok(inner);
        }
        self.node()?;
        self.predicate()
    }

    /// A comparison, a function call, a lambda or a bare Boolean property.
    fn predicate(&mut self) -> Result<Filter, String> {
        let left = match self.next() {
            Some(Token::Name(name)) => {
                if self.peek() == Some(&Token::Open) {
                    return self.text_function(&name);
                }
                if self.peek() == Some(&Token::Slash) {
                    return self.lambda(&name);
                }
                self.operand(name)?
            }
            Some(token) if token.is_literal() => Operand::Literal(token),
            Some(token) => {
                return Err(format!(
                    "expected a property, function or literal, found {}",
                    describe(&token)
                ));
            }
            None => return Err("the expression ends where a condition was expected".to_owned()),
        };
        let op = match self.peek() {
            Some(Token::Name(name)) if CmpOp::parse(name).is_some() => CmpOp::parse(name),
            _ => None,
        };
        let Some(op) = op else {
            return match left {
                Operand::Subject(Subject::Property(id)) if kind(id) == PropKind::Boolean => {
                    Ok(Filter::Compare {
                        subject: Subject::Property(id),
                        op: CmpOp::Eq,
                        value: Literal::Bool(true),
                    })
                }
                _ => Err(match self.peek() {
                    Some(Token::Name(name)) => format!("the operator '{name}' is not supported"),
                    Some(token) => {
                        format!("expected a comparison operator, found {}", describe(token))
                    }
                    None => "expected a comparison operator (eq, ne, gt, ge, lt, le)".to_owned(),
                }),
            };
        };
        self.next();
        let right = match self.next() {
            Some(Token::Name(name)) if self.peek() == Some(&Token::Open) => {
                return Err(format!(
                    "the function '{name}' cannot be compared; only startswith, endswith and contains are supported, as conditions"
                ));
            }
            Some(Token::Name(name)) => self.operand(name)?,
            Some(token) if token.is_literal() => Operand::Literal(token),
            Some(token) => {
                return Err(format!(
                    "expected a value after '{}', found {}",
                    op_name(op),
                    describe(&token)
                ));
            }
            None => return Err(format!("expected a value after '{}'", op_name(op))),
        };
        match (left, right) {
            (Operand::Subject(subject), Operand::Literal(literal)) => {
                compare(subject, op, literal, self.version)
            }
            (Operand::Literal(literal), Operand::Subject(subject)) => {
                compare(subject, op.flipped(), literal, self.version)
            }
            (Operand::Subject(_), Operand::Subject(_)) => {
                Err("comparing two properties is not supported".to_owned())
            }
            (Operand::Literal(_), Operand::Literal(_)) => {
                Err("comparing two literals is not supported".to_owned())
            }
        }
    }

    /// A name used as an operand: the keywords `null`, `true` and `false` are literals.
    fn operand(&mut self, name: String) -> Result<Operand, String> {
        if matches!(name.as_str(), "null" | "true" | "false") {
            return Ok(Operand::Literal(Token::Name(name)));
        }
        self.subject(&name).map(Operand::Subject)
    }

    /// A property or the lambda variable.
    fn subject(&mut self, name: &str) -> Result<Subject, String> {
        if self.lambda_var.as_deref() == Some(name) {
            return Ok(Subject::ScopeTag);
        }
        let property = properties::find(name, self.version).ok_or_else(|| {
            format!("could not find a property named '{name}' on type 'microsoft.graph.vppToken'")
        })?;
        match property.kind {
            PropKind::ActionResults | PropKind::StringCollection => Err(format!(
                "the collection property '{name}' can only be filtered with a lambda, e.g. roleScopeTagIds/any(t: t eq '0')"
            )),
            _ if property.id == PropId::Token => {
                Err("the property 'token' is write-only and cannot be filtered".to_owned())
            }
            _ => Ok(Subject::Property(property.id)),
        }
    }

    fn text_function(&mut self, name: &str) -> Result<Filter, String> {
        let function = match name {
            "startswith" => TextFn::StartsWith,
            "endswith" => TextFn::EndsWith,
            "contains" => TextFn::Contains,
            other => {
                return Err(format!(
                    "the function '{other}' is not supported; use startswith, endswith or contains"
                ));
            }
        };
        self.expect_token(Token::Open, "'('")?;
        let subject = match self.next() {
            Some(Token::Name(property)) => self.subject(&property)?,
            _ => {
                return Err(format!(
                    "the first argument of {name} must be a string property"
                ));
            }
        };
        if let Subject::Property(id) = subject
            && !matches!(kind(id), PropKind::String | PropKind::Key)
        {
            return Err(format!(
                "{name} needs a string property; '{}' is not one",
                properties::property(id).name
            ));
        }
        self.expect_token(Token::Comma, "','")?;
        let argument = match self.next() {
            Some(Token::Text(text)) => text,
            _ => {
                return Err(format!(
                    "the second argument of {name} must be a string literal"
                ));
            }
        };
        self.expect_token(Token::Close, "')'")?;
        Ok(Filter::Text {
            function,
            subject,
            argument,
        })
    }

    fn lambda(&mut self, collection: &str) -> Result<Filter, String> {
        self.next(); // the slash
        if collection != "roleScopeTagIds" || properties::find(collection, self.version).is_none() {
            return Err(format!(
                "'{collection}/' is not supported; lambda operators work on roleScopeTagIds only"
            ));
        }
        let quantifier = match self.next() {
            Some(Token::Name(name)) if name == "any" => Quantifier::Any,
            Some(Token::Name(name)) if name == "all" => Quantifier::All,
            _ => return Err("expected any or all after 'roleScopeTagIds/'".to_owned()),
        };
        if self.lambda_var.is_some() {
            return Err("nested lambda operators are not supported".to_owned());
        }
        self.expect_token(Token::Open, "'('")?;
        if self.peek() == Some(&Token::Close) && quantifier == Quantifier::Any {
            self.next();
            return Ok(Filter::ScopeTags {
                quantifier,
                predicate: None,
            });
        }
        let variable = match self.next() {
            Some(Token::Name(name)) => name,
            _ => return Err("expected a lambda variable, as in any(t: t eq '0')".to_owned()),
        };
        self.expect_token(Token::Colon, "':' after the lambda variable")?;
        self.lambda_var = Some(variable);
        let body = self.nested(Self::or);
        self.lambda_var = None;
        let body = body?;
        self.expect_token(Token::Close, "')' closing the lambda")?;
        Ok(Filter::ScopeTags {
            quantifier,
            predicate: Some(Box::new(body)),
        })
    }
}

fn kind(id: PropId) -> PropKind {
    properties::property(id).kind
}

fn op_name(op: CmpOp) -> &'static str {
    match op {
        CmpOp::Eq => "eq",
        CmpOp::Ne => "ne",
        CmpOp::Gt => "gt",
        CmpOp::Ge => "ge",
        CmpOp::Lt => "lt",
        CmpOp::Le => "le",
    }
}

fn describe(token: &Token) -> String {
    match token {
        Token::Name(name) => format!("'{name}'"),
        Token::Text(text) => format!("the string '{text}'"),
        Token::Enum { type_name, member } => format!("the enum literal {type_name}'{member}'"),
        Token::DateTime(instant) => format!("the date-time {instant}"),
        Token::Number(number) => format!("the number {number}"),
        Token::Open => "'('".to_owned(),
        Token::Close => "')'".to_owned(),
        Token::Comma => "','".to_owned(),
        Token::Slash => "'/'".to_owned(),
        Token::Colon => "':'".to_owned(),
    }
}

/// The namespace of a typed enum literal's type name.
const GRAPH_NAMESPACE: &str = "microsoft.graph.";

/// Types a comparison: the literal must suit the subject (and the operator the type).
fn compare(
    subject: Subject,
    op: CmpOp,
    literal: Token,
    version: ApiVersion,
) -> Result<Filter, String> {
    let (name, kind) = match subject {
        Subject::Property(id) => (properties::property(id).name, kind(id)),
        Subject::ScopeTag => ("the lambda variable", PropKind::String),
    };
    let mismatch = |expected: &str| {
        Err(format!(
            "'{name}' is compared with {}; expected {expected}",
            describe(&literal)
        ))
    };
    let value = match (&literal, kind) {
        (Token::Name(word), _) if word == "null" => {
            if !op.is_equality() {
                return Err(format!(
                    "null can only be compared with eq or ne (on '{name}')"
                ));
            }
            Literal::Null
        }
        (Token::Name(word), PropKind::Boolean) if word == "true" || word == "false" => {
            Literal::Bool(word == "true")
        }
        (_, PropKind::Boolean) => return mismatch("true or false"),
        (Token::Text(text), PropKind::String | PropKind::Key) => Literal::Text(text.clone()),
        (_, PropKind::String | PropKind::Key) => {
            return mismatch("a string literal in single quotes");
        }
        (Token::DateTime(instant), PropKind::DateTime) => Literal::DateTime(*instant),
        (Token::Text(text), PropKind::DateTime) => match GraphDateTime::parse(text) {
            Some(instant) => Literal::DateTime(instant),
            None => return mismatch("a date-time such as 2026-01-01T00:00:00Z"),
        },
        (_, PropKind::DateTime) => return mismatch("a date-time such as 2026-01-01T00:00:00Z"),
        (Token::Text(text), PropKind::Enum(type_name)) => {
            Literal::Text(enum_member(type_name, text, version, name)?)
        }
        (
            Token::Enum {
                type_name: written,
                member,
            },
            PropKind::Enum(type_name),
        ) if written.strip_prefix(GRAPH_NAMESPACE) == Some(type_name) => {
            Literal::Text(enum_member(type_name, member, version, name)?)
        }
        (_, PropKind::Enum(type_name)) => {
            return mismatch(&format!("a {type_name} member in single quotes"));
        }
        (_, PropKind::ActionResults | PropKind::StringCollection) => return mismatch("a lambda"),
    };
    if !op.is_equality() && matches!(kind, PropKind::Boolean | PropKind::Enum(_)) {
        return Err(format!("'{name}' can only be compared with eq or ne"));
    }
    Ok(match_as_seen(subject, op, value, version))
}

/// The comparison matching the tokens whose answers show `value`: v1.0 shows the beta-only
/// state `duplicateLocationId` as `unknown`, so there `state eq 'unknown'` matches both.
fn match_as_seen(subject: Subject, op: CmpOp, value: Literal, version: ApiVersion) -> Filter {
    let state = |member: TokenState| Literal::Text(member.as_str().to_owned());
    let shown_as_unknown = TokenState::DuplicateLocationId;
    let widen = subject == Subject::Property(PropId::State)
        && value == state(TokenState::Unknown)
        && shown_as_unknown.as_seen_in(version) == TokenState::Unknown;
    let compare = |value| Filter::Compare { subject, op, value };
    if !widen {
        return compare(value);
    }
    let (written, hidden) = (
        Box::new(compare(value)),
        Box::new(compare(state(shown_as_unknown))),
    );
    match op {
        CmpOp::Ne => Filter::And(written, hidden),
        _ => Filter::Or(written, hidden),
    }
}

fn enum_member(
    type_name: &str,
    text: &str,
    version: ApiVersion,
    property: &str,
) -> Result<String, String> {
    let valid = match type_name {
        AccountType::GRAPH_NAME => AccountType::parse(text).is_some(),
        TokenState::GRAPH_NAME => TokenState::parse(text).is_some_and(|s| s.exists_in(version)),
        SyncStatus::GRAPH_NAME => SyncStatus::parse(text).is_some(),
        DeliveryProtocol::GRAPH_NAME => DeliveryProtocol::parse(text).is_some(),
        _ => false,
    };
    if valid {
        Ok(text.to_owned())
    } else {
        Err(format!(
            "'{text}' is not a member of {type_name} (property '{property}')"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(text: &str) -> Filter {
        match parse(text, ApiVersion::Beta) {
            Ok(filter) => filter,
            Err(e) => panic!("{text}: {e}"),
        }
    }

    fn err(text: &str) -> String {
        parse(text, ApiVersion::Beta)
            .err()
            .unwrap_or_else(|| format!("{text} was accepted"))
    }

    fn cmp(id: PropId, op: CmpOp, value: Literal) -> Filter {
        Filter::Compare {
            subject: Subject::Property(id),
            op,
            value,
        }
    }

    #[test]
    fn and_binds_tighter_than_or_and_not_tighter_than_and() {
        let a = cmp(PropId::State, CmpOp::Eq, Literal::Text("valid".into()));
        let b = cmp(
            PropId::AutomaticallyUpdateApps,
            CmpOp::Eq,
            Literal::Bool(true),
        );
        let c = cmp(PropId::DisplayName, CmpOp::Eq, Literal::Null);
        assert_eq!(
            ok("state eq 'valid' or automaticallyUpdateApps and not displayName eq null"),
            Filter::Or(
                Box::new(a.clone()),
                Box::new(Filter::And(
                    Box::new(b.clone()),
                    Box::new(Filter::Not(Box::new(c.clone())))
                ))
            )
        );
        assert_eq!(
            ok("(state eq 'valid' or automaticallyUpdateApps eq true) and displayName eq null"),
            Filter::And(Box::new(Filter::Or(Box::new(a), Box::new(b))), Box::new(c))
        );
    }

    #[test]
    fn literals_on_the_left_are_flipped_and_typed() {
        assert_eq!(
            ok("2026-01-01T00:00:00Z lt lastSyncDateTime"),
            cmp(
                PropId::LastSyncDateTime,
                CmpOp::Gt,
                Literal::DateTime(
                    GraphDateTime::parse("2026-01-01T00:00:00Z").unwrap_or_else(GraphDateTime::min)
                )
            )
        );
    }

    #[test]
    fn lambdas_on_scope_tags() {
        assert_eq!(
            ok("roleScopeTagIds/any(t: t eq '0')"),
            Filter::ScopeTags {
                quantifier: Quantifier::Any,
                predicate: Some(Box::new(Filter::Compare {
                    subject: Subject::ScopeTag,
                    op: CmpOp::Eq,
                    value: Literal::Text("0".into())
                })),
            }
        );
        assert!(matches!(
            ok("roleScopeTagIds/any()"),
            Filter::ScopeTags {
                predicate: None,
                ..
            }
        ));
    }

    #[test]
    fn rejections_name_the_problem() {
        for (text, needle) in [
            ("nope eq 'x'", "nope"),
            ("state eq 'Valid'", "Valid"),
            ("state gt 'valid'", "eq or ne"),
            ("token eq 'x'", "token"),
            ("tolower(displayName) eq 'x'", "tolower"),
            ("displayName has 'x'", "has"),
            ("displayName eq 1", "number"),
            ("roleScopeTagIds eq '0'", "lambda"),
            ("tokenActionResults/any(a: a eq 'x')", "roleScopeTagIds"),
            ("displayName eq 'x' and", "end"),
            ("(displayName eq 'x'", "')'"),
            ("'a' eq 'b'", "two literals"),
            (
                "state eq microsoft.graph.vppTokenSyncStatus'none'",
                "vppTokenState member",
            ),
            ("state eq microsoft.graph.vppTokenState'Valid'", "Valid"),
            (
                "displayName eq microsoft.graph.vppTokenState'valid'",
                "string",
            ),
        ] {
            let message = err(text);
            assert!(message.contains(needle), "{text}: {message}");
        }
        assert!(parse("displayName eq 'x'", ApiVersion::V1).is_err());
        assert!(parse("state eq 'duplicateLocationId'", ApiVersion::V1).is_err());
    }

    #[test]
    fn size_and_depth_are_bounded() {
        let wide = vec!["state eq 'valid'"; MAX_NODES + 1].join(" or ");
        assert!(err(&wide).contains("terms"));
        let deep = format!(
            "{}state eq 'valid'{}",
            "(".repeat(MAX_DEPTH + 1),
            ")".repeat(MAX_DEPTH + 1)
        );
        assert!(err(&deep).contains("deeper"));
        let very_deep = "not ".repeat(100_000) + "automaticallyUpdateApps";
        assert!(parse(&very_deep, ApiVersion::Beta).is_err());
    }
}
