//! Compiles a checked `$filter` tree to SQL. Column names come from the property table (an
//! allow-list); every value is bound. Predicates are written so that a NULL column makes a
//! comparison false rather than unknown, which keeps `not` two-valued as OData expects.

use crate::domain::properties::{self, PropId};
use crate::graph::filter::{CmpOp, Filter, Literal, Quantifier, Subject, TextFn};
use sqlx::QueryBuilder;
use sqlx::sqlite::Sqlite;

/// Appends `filter` as a SQL condition on `vpp_tokens t`.
pub fn push_filter(query: &mut QueryBuilder<Sqlite>, filter: &Filter) {
    match filter {
        Filter::And(left, right) | Filter::Or(left, right) => {
            let joiner = if matches!(filter, Filter::And(..)) {
                " AND "
            } else {
                " OR "
            };
            query.push("(");
            push_filter(query, left);
            query.push(joiner);
            push_filter(query, right);
            query.push(")");
        }
        Filter::Not(inner) => {
            query.push("NOT (");
            push_filter(query, inner);
            query.push(")");
        }
        Filter::Compare { subject, op, value } => {
            push_comparison(query, column(*subject), *op, value)
        }
        Filter::Text {
            function,
            subject,
            argument,
        } => push_text_function(query, column(*subject), *function, argument),
        Filter::ScopeTags {
            quantifier,
            predicate,
        } => {
            let (lead, inner_not) = match quantifier {
                Quantifier::Any => ("EXISTS", ""),
                Quantifier::All => ("NOT EXISTS", "NOT "),
            };
            query
                .push(lead)
                .push(" (SELECT 1 FROM vpp_token_role_scope_tag_ids r WHERE r.token_seq = t.seq");
            if let Some(predicate) = predicate {
                query.push(" AND ").push(inner_not).push("(");
                push_filter(query, predicate);
                query.push(")");
            }
            query.push(")");
        }
    }
}

/// A column reference: `t.<column>` of the token, or the scope tag of the lambda's row.
#[derive(Debug, Clone, Copy)]
pub struct Column {
    name: Option<&'static str>,
    nullable: bool,
}

impl std::fmt::Display for Column {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.name {
            Some(name) => write!(f, "t.{name}"),
            None => f.write_str("r.role_scope_tag_id"),
        }
    }
}

/// The column of a property; `properties::PROPERTIES` is the allow-list of names.
pub fn property_column(id: PropId) -> Column {
    let property = properties::property(id);
    Column {
        name: Some(property.column.unwrap_or("seq")),
        nullable: property.nullable,
    }
}

fn column(subject: Subject) -> Column {
    match subject {
        Subject::ScopeTag => Column {
            name: None,
            nullable: false,
        },
        Subject::Property(id) => property_column(id),
    }
}

fn push_comparison(query: &mut QueryBuilder<Sqlite>, column: Column, op: CmpOp, value: &Literal) {
    // When a NULL can meet the operator, `IS`/`IS NOT` (SQLite's null-safe equality: `null ne
    // 'x'` is true, as in OData) and `coalesce(…, 0)` keep the result two-valued. Otherwise
    // plain operators, which SQLite's indexes serve.
    let null_safe = column.nullable || matches!(value, Literal::Null);
    let operator = match op {
        CmpOp::Eq if null_safe => " IS ",
        CmpOp::Ne if null_safe => " IS NOT ",
        CmpOp::Eq => " = ",
        CmpOp::Ne => " != ",
        CmpOp::Gt => " > ",
        CmpOp::Ge => " >= ",
        CmpOp::Lt => " < ",
        CmpOp::Le => " <= ",
    };
    let coalesce = null_safe && !matches!(op, CmpOp::Eq | CmpOp::Ne);
    query
        .push(if coalesce { "coalesce(" } else { "(" })
        .push(column)
        .push(operator);
    push_literal(query, value);
    query.push(if coalesce { ", 0)" } else { ")" });
}

fn push_literal(query: &mut QueryBuilder<Sqlite>, value: &Literal) {
    match value {
        Literal::Null => query.push("NULL"),
        Literal::Text(text) => query.push_bind(text.clone()),
        Literal::Bool(flag) => query.push_bind(*flag),
        Literal::DateTime(instant) => query.push_bind(instant.to_storage()),
    };
}

fn push_text_function(
    query: &mut QueryBuilder<Sqlite>,
    column: Column,
    function: TextFn,
    argument: &str,
) {
    // Case-sensitive, like the comparisons; `instr` and `substr` count characters.
    match function {
        TextFn::StartsWith => {
            query
                .push("coalesce(substr(")
                .push(column)
                .push(", 1, ")
                .push_bind(argument.chars().count() as i64);
            query
                .push(") = ")
                .push_bind(argument.to_owned())
                .push(", 0)");
        }
        TextFn::EndsWith if argument.is_empty() => {
            query.push("(").push(column).push(" IS NOT NULL)");
        }
        TextFn::EndsWith => {
            query
                .push("coalesce(substr(")
                .push(column)
                .push(", ")
                .push_bind(-(argument.chars().count() as i64));
            query
                .push(") = ")
                .push_bind(argument.to_owned())
                .push(", 0)");
        }
        TextFn::Contains => {
            query
                .push("coalesce(instr(")
                .push(column)
                .push(", ")
                .push_bind(argument.to_owned())
                .push(") > 0, 0)");
        }
    }
}
