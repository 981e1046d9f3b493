//! Strict reading of request bodies: one JSON object, no property twice, at most 32 levels deep.
//! `serde_json::Value` alone would keep the last of two equal keys and allow 128 levels.

use crate::error::{ApiError, ApiResult};
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};
use std::fmt;

/// Deepest nesting accepted (the object itself is level 1).
pub const MAX_DEPTH: usize = 32;

const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// Parses a request body that must be one JSON object. A UTF-8 byte-order mark is accepted
/// (and ignored) on every route that reads a body.
pub fn parse_object(body: &[u8]) -> ApiResult<Map<String, Value>> {
    let body = body.strip_prefix(UTF8_BOM).unwrap_or(body);
    let mut reader = serde_json::Deserializer::from_slice(body);
    let value = StrictValue { depth: 1 }
        .deserialize(&mut reader)
        .and_then(|value| reader.end().map(|()| value))
        .map_err(|e| {
            ApiError::bad_request_plain(format!("The request body is not valid JSON: {e}."))
        })?;
    match value {
        Value::Object(map) => Ok(map),
        other => Err(ApiError::bad_request_plain(format!(
            "The request body must be a JSON object, not {}.",
            describe(&other)
        ))),
    }
}

/// A JSON value's kind, for error messages ("a string", "null"...).
pub fn describe(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a Boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Builds a `Value` while enforcing the depth limit and rejecting duplicate keys.
struct StrictValue {
    depth: usize,
}

impl StrictValue {
    /// The seed for a value inside this array or object.
    fn nested(&self) -> StrictValue {
        StrictValue {
            depth: self.depth + 1,
        }
    }

    /// Arrays and objects count as levels; the outermost object is level 1.
    fn check_depth<E: de::Error>(&self) -> Result<(), E> {
        if self.depth > MAX_DEPTH {
            return Err(E::custom(format_args!(
                "nested deeper than {MAX_DEPTH} levels"
            )));
        }
        Ok(())
    }
}

impl<'de> DeserializeSeed<'de> for StrictValue {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for StrictValue {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        self.check_depth()?;
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(self.nested())? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        self.check_depth()?;
        let mut object = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if object.contains_key(&key) {
                return Err(de::Error::custom(format_args!(
                    "the property '{key}' is given more than once"
                )));
            }
            let value = map.next_value_seed(self.nested())?;
            object.insert(key, value);
        }
        Ok(Value::Object(object))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nested(levels: usize) -> String {
        format!("{}1{}", "{\"a\":".repeat(levels), "}".repeat(levels))
    }

    #[test]
    fn accepts_an_object_with_a_bom() {
        assert!(parse_object(b"\xEF\xBB\xBF{\"a\":1}").is_ok());
    }

    #[test]
    fn rejects_duplicates_non_objects_and_trailing_text() {
        for bad in [
            &b"{\"a\":1,\"a\":2}"[..],
            b"[1]",
            b"\"x\"",
            b"{} {}",
            b"",
            b"{",
            b"\xff",
        ] {
            assert!(
                parse_object(bad).is_err(),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
        assert!(parse_object(b"{\"a\":[{\"b\":1,\"b\":1}]}").is_err());
    }

    #[test]
    fn limits_depth_to_32_levels() {
        assert!(parse_object(nested(32).as_bytes()).is_ok());
        assert!(parse_object(nested(33).as_bytes()).is_err());
        assert!(parse_object(nested(100_000).as_bytes()).is_err());
    }
}
