//! The `$filter` language of the seed, parsed (a tokenizer and a recursive-descent parser,
//! not string splitting) into a tree the handlers turn into the core's typed filter.
//!
//! ```text
//! expr   := and ("or" and)*
//! and    := unary ("and" unary)*
//! unary  := "not" unary | "(" expr ")" | clause
//! clause := NAME OP value
//! OP     := "==" | "!=" | "=~"            (equal, different, contains)
//! value  := "…" | '…' | bare text up to " and ", " or ", ")" or the end
//! ```
//!
//! Both forms of the seed parse: `name == "Milk" or surname == "Bread"` and
//! `title==Sample Template` (a bare value may hold spaces). Errors name the clause.

/// A comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    Contains,
}

/// A parsed filter.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    Clause {
        field: String,
        op: Op,
        value: String,
    },
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
}

/// Why a filter does not parse: the message names the clause.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilterError(pub String);

impl std::fmt::Display for FilterError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Longest filter accepted.
pub const MAX_FILTER: usize = 2000;
/// Deepest nesting accepted.
const MAX_DEPTH: usize = 20;

/// Parses a `$filter` value.
pub fn parse(input: &str) -> Result<Expr, FilterError> {
    if input.len() > MAX_FILTER {
        return Err(FilterError(format!(
            "the filter is longer than {MAX_FILTER} characters"
        )));
    }
    let mut p = Parser {
        s: input,
        pos: 0,
        depth: 0,
    };
    p.skip_ws();
    if p.at_end() {
        return Err(FilterError("the filter is empty".into()));
    }
    let e = p.expr()?;
    p.skip_ws();
    if !p.at_end() {
        return Err(FilterError(format!(
            "unexpected {:?} at position {}",
            p.rest(),
            p.pos
        )));
    }
    Ok(e)
}

struct Parser<'a> {
    s: &'a str,
    pos: usize,
    depth: usize,
}

impl Parser<'_> {
    fn rest(&self) -> &str {
        &self.s[self.pos..]
    }

    fn at_end(&self) -> bool {
        self.pos >= self.s.len()
    }

    fn skip_ws(&mut self) {
        let trimmed = self.rest().trim_start();
        self.pos = self.s.len() - trimmed.len();
    }

    /// Consumes keyword `kw` (case-insensitive) when it stands alone (followed by a space
    /// or a parenthesis).
    fn keyword(&mut self, kw: &str) -> bool {
        self.skip_ws();
        let rest = self.rest();
        let Some(head) = rest.get(..kw.len()) else {
            return false;
        };
        let next = rest[kw.len()..].chars().next();
        if head.eq_ignore_ascii_case(kw) && next.is_some_and(|c| c.is_whitespace() || c == '(') {
            self.pos += kw.len();
            return true;
        }
        false
    }

    fn expr(&mut self) -> Result<Expr, FilterError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(FilterError("the filter is nested too deeply".into()));
        }
        let mut left = self.and()?;
        while self.keyword("or") {
            let right = self.and()?;
            left = Expr::Or(Box::new(left), Box::new(right));
        }
        self.depth -= 1;
        Ok(left)
    }

    fn and(&mut self) -> Result<Expr, FilterError> {
        let mut left = self.unary()?;
        while self.keyword("and") {
            let right = self.unary()?;
            left = Expr::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<Expr, FilterError> {
        if self.keyword("not") {
            return Ok(Expr::Not(Box::new(self.unary()?)));
        }
        self.skip_ws();
        if self.rest().starts_with('(') {
            self.pos += 1;
            let e = self.expr()?;
            self.skip_ws();
            if !self.rest().starts_with(')') {
                return Err(FilterError(format!("missing ')' at position {}", self.pos)));
            }
            self.pos += 1;
            return Ok(e);
        }
        self.clause()
    }

    fn clause(&mut self) -> Result<Expr, FilterError> {
        self.skip_ws();
        let start = self.pos;
        let name_len = self
            .rest()
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.'))
            .unwrap_or(self.rest().len());
        let field = self.rest()[..name_len].to_string();
        self.pos += name_len;
        self.skip_ws();
        let op = if self.rest().starts_with("==") {
            Op::Eq
        } else if self.rest().starts_with("!=") {
            Op::Ne
        } else if self.rest().starts_with("=~") {
            Op::Contains
        } else {
            let clause = self.clause_text(start);
            return Err(FilterError(if field.is_empty() {
                format!("clause {clause:?} does not start with a field name")
            } else {
                format!("clause {clause:?} has no operator (==, != or =~)")
            }));
        };
        if field.is_empty() {
            let clause = self.clause_text(start);
            return Err(FilterError(format!(
                "clause {clause:?} does not start with a field name"
            )));
        }
        self.pos += 2;
        self.skip_ws();
        let value = self.value(start)?;
        Ok(Expr::Clause { field, op, value })
    }

    /// The text of the clause that starts at `start` (for messages).
    fn clause_text(&self, start: usize) -> String {
        let rest = &self.s[start..];
        let end = [" and ", " or ", ")"]
            .iter()
            .filter_map(|w| rest.to_ascii_lowercase().find(w))
            .min()
            .unwrap_or(rest.len());
        rest[..end].trim().to_string()
    }

    fn value(&mut self, start: usize) -> Result<String, FilterError> {
        let rest = self.rest();
        if let Some(q) = rest.chars().next().filter(|c| *c == '"' || *c == '\'') {
            let body = &rest[1..];
            let mut out = String::new();
            let mut chars = body.char_indices();
            while let Some((i, c)) = chars.next() {
                if c == '\\' {
                    if let Some((_, n)) = chars.next() {
                        out.push(n);
                        continue;
                    }
                } else if c == q {
                    self.pos += 1 + i + 1;
                    return Ok(out);
                }
                out.push(c);
            }
            return Err(FilterError(format!(
                "clause {:?}: the quoted value is not closed",
                self.clause_text(start)
            )));
        }
        // A bare value runs to the next " and ", " or ", ")" or the end.
        let lower = rest.to_ascii_lowercase();
        let end = [" and ", " or ", ")"]
            .iter()
            .filter_map(|w| lower.find(w))
            .min()
            .unwrap_or(rest.len());
        let v = rest[..end].trim().to_string();
        if v.is_empty() {
            return Err(FilterError(format!(
                "clause {:?} has no value",
                self.clause_text(start)
            )));
        }
        self.pos += end;
        Ok(v)
    }
}

/// Whether a record whose fields `get` gives satisfies `e` (lists kept in memory, such as
/// users and groups): `==`/`!=` compare exactly, `=~` contains (case-insensitive). A field
/// `get` does not know is an error naming it.
pub fn holds(e: &Expr, get: &dyn Fn(&str) -> Option<String>) -> Result<bool, FilterError> {
    Ok(match e {
        Expr::Clause { field, op, value } => {
            let v = get(field).ok_or_else(|| FilterError(format!("cannot filter on {field:?}")))?;
            match op {
                Op::Eq => v == *value,
                Op::Ne => v != *value,
                Op::Contains => v.to_lowercase().contains(&value.to_lowercase()),
            }
        }
        Expr::And(a, b) => holds(a, get)? && holds(b, get)?,
        Expr::Or(a, b) => holds(a, get)? || holds(b, get)?,
        Expr::Not(a) => !holds(a, get)?,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn clause(f: &str, op: Op, v: &str) -> Expr {
        Expr::Clause {
            field: f.into(),
            op,
            value: v.into(),
        }
    }

    #[test]
    fn the_seeds_examples_parse() {
        assert_eq!(
            parse(r#"name == "Milk" or surname == "Bread""#).unwrap(),
            Expr::Or(
                Box::new(clause("name", Op::Eq, "Milk")),
                Box::new(clause("surname", Op::Eq, "Bread"))
            )
        );
        assert_eq!(
            parse("title==Sample Template").unwrap(),
            clause("title", Op::Eq, "Sample Template")
        );
    }

    #[test]
    fn and_binds_tighter_than_or_and_parentheses_group() {
        let e = parse("a==1 or b==2 and c!=3").unwrap();
        assert!(matches!(e, Expr::Or(_, ref r) if matches!(**r, Expr::And(_, _))));
        let e = parse("(a==1 or b==2) and not c=~'x y'").unwrap();
        assert!(matches!(e, Expr::And(ref l, ref r)
            if matches!(**l, Expr::Or(_, _)) && matches!(**r, Expr::Not(_))));
        assert_eq!(
            parse(r#"title == "say \"hi\"""#).unwrap(),
            clause("title", Op::Eq, "say \"hi\"")
        );
    }

    #[test]
    fn errors_name_the_clause() {
        let e = parse("title = x").unwrap_err();
        assert!(e.0.contains("\"title = x\""), "{e}");
        assert!(e.0.contains("no operator"), "{e}");
        assert!(parse("title == \"open")
            .unwrap_err()
            .0
            .contains("not closed"));
        assert!(parse("title ==").unwrap_err().0.contains("no value"));
        assert!(parse("(title == a").unwrap_err().0.contains("missing ')'"));
        assert!(parse("").unwrap_err().0.contains("empty"));
        assert!(parse("== a").unwrap_err().0.contains("field name"));
        assert!(parse(&"(".repeat(50)).is_err());
    }

    #[test]
    fn filters_hold_on_records() {
        let get = |f: &str| match f {
            "name" => Some("Milk".to_string()),
            "surname" => Some("Cheese".to_string()),
            _ => None,
        };
        let e = parse(r#"name == "Milk" or surname == "Bread""#).unwrap();
        assert!(holds(&e, &get).unwrap());
        let e = parse("name != Milk and surname =~ chee").unwrap();
        assert!(!holds(&e, &get).unwrap());
        let e = parse("not surname =~ CHEE").unwrap();
        assert!(!holds(&e, &get).unwrap());
        assert!(holds(&parse("age == 3").unwrap(), &get)
            .unwrap_err()
            .0
            .contains("\"age\""));
    }
}
