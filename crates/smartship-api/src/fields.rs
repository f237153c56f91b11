//! The kinds of value an open-API parameter holds, each with its check and
//! its OpenAPI schema, so that a request struct states a parameter's name,
//! limits and meaning once, on one field, and the server, the document and
//! the SDK read it from there.
//!
//! A check's message leaves out the parameter's name: whoever decodes the
//! request puts it in front (the server answers 40001 with
//! `"{name} {message}"`, e.g. `user_version 长度 70 超过上限 64 个字符`).

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};
use std::fmt;
use utoipa::openapi::schema::{ObjectBuilder, Schema, SchemaType, Type};
use utoipa::openapi::{KnownFormat, RefOr, SchemaFormat};

/// Bidirectional formatting characters: they reorder how the text around
/// them is displayed, so a one-line field must not hold them.
pub fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

fn check_len(v: &str, max: usize) -> Result<(), String> {
    let n = v.chars().count();
    if n > max {
        return Err(format!("长度 {n} 超过上限 {max} 个字符"));
    }
    Ok(())
}

/// Why `v` is no one-line text of at most `max` characters, if it is not.
pub fn check_line(v: &str, max: usize) -> Result<(), String> {
    if v.chars()
        .any(|c| matches!(c, '\t' | '\n' | '\r') || is_bidi_control(c))
    {
        return Err("须为单行文本 (不能含制表符、换行或双向控制字符)".to_owned());
    }
    check_len(v, max)
}

fn string_schema(max: usize) -> Schema {
    ObjectBuilder::new()
        .schema_type(SchemaType::Type(Type::String))
        .max_length(Some(max))
        .into()
}

macro_rules! text_field {
    ($(#[$doc:meta])* $name:ident, $check:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Default)]
        pub struct $name<const MAX: usize>(pub String);

        impl<const MAX: usize> $name<MAX> {
            pub fn as_str(&self) -> &str {
                &self.0
            }
            pub fn into_string(self) -> String {
                self.0
            }
        }

        impl<const MAX: usize> From<&str> for $name<MAX> {
            fn from(v: &str) -> Self {
                $name(v.to_owned())
            }
        }

        impl<const MAX: usize> From<String> for $name<MAX> {
            fn from(v: String) -> Self {
                $name(v)
            }
        }

        impl<const MAX: usize> std::ops::Deref for $name<MAX> {
            type Target = str;
            fn deref(&self) -> &str {
                &self.0
            }
        }

        impl<const MAX: usize> Serialize for $name<MAX> {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.0)
            }
        }

        impl<'de, const MAX: usize> Deserialize<'de> for $name<MAX> {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let v = String::deserialize(d)?;
                let check: fn(&str, usize) -> Result<(), String> = $check;
                check(&v, MAX).map_err(de::Error::custom)?;
                Ok($name(v))
            }
        }

        impl<const MAX: usize> utoipa::PartialSchema for $name<MAX> {
            fn schema() -> RefOr<Schema> {
                string_schema(MAX).into()
            }
        }

        impl<const MAX: usize> utoipa::ToSchema for $name<MAX> {}
    };
}

text_field!(
    /// One line of text of at most `MAX` characters: no tab, line break or
    /// bidirectional formatting character (versions, descriptions and
    /// credentials are shown in one line of a list).
    Line,
    check_line
);

text_field!(
    /// A text of at most `MAX` characters that may span lines (tabs and
    /// line breaks allowed; other control characters never are).
    Paragraph,
    check_len
);

/// A positive integer id, given as `"123"` or `123`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Id(pub i64);

impl Id {
    pub fn get(self) -> i64 {
        self.0
    }
}

impl From<i64> for Id {
    fn from(v: i64) -> Id {
        Id(v)
    }
}

impl Serialize for Id {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_i64(self.0)
    }
}

/// Reads an integer given as a number or as decimal text, accepted when
/// `ok` holds; the refusal quotes what was received.
struct IntVisitor {
    ok: fn(i64) -> bool,
    words: &'static str,
}

impl IntVisitor {
    fn refuse<E: de::Error>(&self, got: &dyn fmt::Debug) -> E {
        E::custom(format!("{}，收到 {got:?}", self.words))
    }
    fn check<E: de::Error>(&self, n: i64, got: &dyn fmt::Debug) -> Result<i64, E> {
        if (self.ok)(n) {
            Ok(n)
        } else {
            Err(self.refuse(got))
        }
    }
}

impl Visitor<'_> for IntVisitor {
    type Value = i64;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(self.words)
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<i64, E> {
        self.check(v, &v)
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<i64, E> {
        match i64::try_from(v) {
            Ok(n) => self.check(n, &v),
            Err(_) => Err(self.refuse(&v)),
        }
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<i64, E> {
        match v.parse::<i64>() {
            Ok(n) => self.check(n, &v),
            Err(_) => Err(self.refuse(&v)),
        }
    }
}

impl<'de> Deserialize<'de> for Id {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Id, D::Error> {
        d.deserialize_any(IntVisitor {
            ok: |n| n > 0,
            words: "必须是正整数",
        })
        .map(Id)
    }
}

impl utoipa::PartialSchema for Id {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(SchemaType::Type(Type::Integer))
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int64)))
            .minimum(Some(1))
            .into()
    }
}

impl utoipa::ToSchema for Id {}

/// An integer or nothing (a bounded integer's default).
struct MaybeInt;

impl<'de> Visitor<'de> for MaybeInt {
    type Value = Option<i64>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an integer or nothing")
    }
    fn visit_none<E: de::Error>(self) -> Result<Option<i64>, E> {
        Ok(None)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Option<i64>, E> {
        Ok(None)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Option<i64>, D::Error> {
        let any = IntVisitor {
            ok: |_| true,
            words: "必须是整数",
        };
        d.deserialize_any(any).map(Some)
    }
    // Formats without options hand the value over directly.
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Option<i64>, E> {
        Ok(Some(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Option<i64>, E> {
        i64::try_from(v).map(Some).map_err(E::custom)
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Option<i64>, E> {
        v.parse().map(Some).map_err(E::custom)
    }
}

/// An integer from `MIN` to `MAX`, `DEFAULT` when the parameter is absent
/// (page numbers and sizes, a code's width).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bounded<const MIN: i64, const MAX: i64, const DEFAULT: i64>(pub i64);

impl<const MIN: i64, const MAX: i64, const DEFAULT: i64> Bounded<MIN, MAX, DEFAULT> {
    pub fn get(self) -> i64 {
        self.0
    }
}

impl<const MIN: i64, const MAX: i64, const DEFAULT: i64> Default for Bounded<MIN, MAX, DEFAULT> {
    fn default() -> Self {
        Bounded(DEFAULT)
    }
}

impl<const MIN: i64, const MAX: i64, const DEFAULT: i64> From<i64> for Bounded<MIN, MAX, DEFAULT> {
    fn from(v: i64) -> Self {
        Bounded(v)
    }
}

impl<const MIN: i64, const MAX: i64, const DEFAULT: i64> Serialize for Bounded<MIN, MAX, DEFAULT> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_i64(self.0)
    }
}

impl<'de, const MIN: i64, const MAX: i64, const DEFAULT: i64> Deserialize<'de>
    for Bounded<MIN, MAX, DEFAULT>
{
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match d.deserialize_option(MaybeInt) {
            Ok(None) => Ok(Bounded(DEFAULT)),
            Ok(Some(n)) if (MIN..=MAX).contains(&n) => Ok(Bounded(n)),
            _ => Err(de::Error::custom(format!(
                "必须是 {MIN} 到 {MAX} 之间的整数"
            ))),
        }
    }
}

impl<const MIN: i64, const MAX: i64, const DEFAULT: i64> utoipa::PartialSchema
    for Bounded<MIN, MAX, DEFAULT>
{
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(SchemaType::Type(Type::Integer))
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int64)))
            .minimum(Some(MIN))
            .maximum(Some(MAX))
            .default(Some(DEFAULT.into()))
            .into()
    }
}

impl<const MIN: i64, const MAX: i64, const DEFAULT: i64> utoipa::ToSchema
    for Bounded<MIN, MAX, DEFAULT>
{
}

/// A parameter's text exactly as given, untrimmed, or None when it is
/// not given: unlike every other kind, an empty value is not absent (a
/// list set to nothing, as `set` of the domain routes does).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Verbatim(pub Option<String>);

impl Verbatim {
    /// The name a decoder recognises to hand over the text untrimmed.
    pub const NEWTYPE: &'static str = "Verbatim";

    pub fn is_absent(&self) -> bool {
        self.0.is_none()
    }

    pub fn as_deref(&self) -> Option<&str> {
        self.0.as_deref()
    }
}

impl Serialize for Verbatim {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match &self.0 {
            Some(v) => s.serialize_str(v),
            None => s.serialize_none(),
        }
    }
}

impl<'de> Deserialize<'de> for Verbatim {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Text;
        impl<'de> Visitor<'de> for Text {
            type Value = Verbatim;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a text")
            }
            fn visit_newtype_struct<D: Deserializer<'de>>(
                self,
                d: D,
            ) -> Result<Verbatim, D::Error> {
                String::deserialize(d).map(|v| Verbatim(Some(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Verbatim, E> {
                Ok(Verbatim(Some(v.to_owned())))
            }
            fn visit_none<E: de::Error>(self) -> Result<Verbatim, E> {
                Ok(Verbatim(None))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Verbatim, E> {
                Ok(Verbatim(None))
            }
        }
        d.deserialize_newtype_struct(Verbatim::NEWTYPE, Text)
    }
}

impl utoipa::PartialSchema for Verbatim {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(SchemaType::Type(Type::String))
            .into()
    }
}

impl utoipa::ToSchema for Verbatim {}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::de::IntoDeserializer;
    use serde::de::value::Error;

    fn line(v: &str) -> Result<Line<5>, String> {
        Line::<5>::deserialize(IntoDeserializer::<Error>::into_deserializer(v))
            .map_err(|e| e.to_string())
    }

    #[test]
    fn a_line_refuses_breaks_bidi_and_length() {
        assert_eq!(line("abcde").unwrap().as_str(), "abcde");
        assert!(line("abcdef").unwrap_err().contains("超过上限 5"));
        assert!(line("a\nb").unwrap_err().contains("单行"));
        assert!(line("a\u{202e}b").unwrap_err().contains("单行"));
        let p = Paragraph::<5>::deserialize(IntoDeserializer::<Error>::into_deserializer("a\nb"));
        assert_eq!(p.unwrap().as_str(), "a\nb");
    }

    #[test]
    fn ids_and_bounded_integers_read_text_and_numbers() {
        let id = |v: &str| Id::deserialize(IntoDeserializer::<Error>::into_deserializer(v));
        assert_eq!(id("12").unwrap(), Id(12));
        assert_eq!(id("0").unwrap_err().to_string(), "必须是正整数，收到 \"0\"");
        assert_eq!(id("x").unwrap_err().to_string(), "必须是正整数，收到 \"x\"");
        assert_eq!(
            Id::deserialize(IntoDeserializer::<Error>::into_deserializer(7i64)).unwrap(),
            Id(7)
        );
        type Page = Bounded<1, 100, 10>;
        let page = |v: &str| Page::deserialize(IntoDeserializer::<Error>::into_deserializer(v));
        assert_eq!(page("100").unwrap().get(), 100);
        assert_eq!(
            page("101").unwrap_err().to_string(),
            "必须是 1 到 100 之间的整数"
        );
        assert_eq!(Page::default().get(), 10);
    }
}
