//! Reads a request struct of `smartship_api` out of a request's
//! [`Params`]: one serde deserializer over the merged query and body
//! parameters, so that a handler states no parameter name and every
//! refusal is the 40001 that names the field, as the getters of
//! [`Params`] word it.
//!
//! A parameter is read trimmed, and an empty one counts as absent (what
//! [`Params::optional`] does), except by a [`Verbatim`] field, which gets
//! the text as given. Parameters the struct does not name are
//! ignored, as SPEC §1 wants; a `#[serde(alias)]` spelling is read like
//! its field's name, and giving both is refused. The given fields are read
//! in the order the struct declares them, then a missing one is refused:
//! the first refusal is the one answered.

use super::error::ApiError;
use super::params::Params;
use serde::de::{self, DeserializeOwned, DeserializeSeed, IntoDeserializer, MapAccess, Visitor};
use smartship_api::fields::Verbatim;
use std::fmt;

/// A refusal of one parameter, worded as the 40001 message.
#[derive(Debug)]
struct Refusal(String);

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Refusal {}

impl de::Error for Refusal {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        Refusal(msg.to_string())
    }
    fn missing_field(field: &'static str) -> Self {
        Refusal(format!("{field} 不能为空"))
    }
    fn duplicate_field(field: &'static str) -> Self {
        Refusal(format!("{field} 与它的另一种写法不能同时给出"))
    }
}

impl Params {
    /// The request struct `T`, or the 40001 naming the first parameter
    /// that does not fit it.
    pub fn decode<T: DeserializeOwned>(&self) -> Result<T, ApiError> {
        T::deserialize(Whole(self)).map_err(|Refusal(m)| ApiError::param(m))
    }
}

/// The parameters as a whole: a struct's fields, by name.
struct Whole<'a>(&'a Params);

impl<'de> de::Deserializer<'de> for Whole<'_> {
    type Error = Refusal;

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Refusal> {
        visitor.visit_map(Fields {
            params: self.0,
            fields: fields.iter(),
            current: None,
        })
    }

    fn deserialize_any<V: Visitor<'de>>(self, _visitor: V) -> Result<V::Value, Refusal> {
        Err(Refusal("a request is read into a struct".to_owned()))
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf option unit unit_struct newtype_struct seq tuple
        tuple_struct map enum identifier ignored_any
    }
}

/// Every name of the struct's fields (aliases included) that the request
/// gives, in turn.
struct Fields<'a> {
    params: &'a Params,
    fields: std::slice::Iter<'static, &'static str>,
    current: Option<(&'static str, &'a str)>,
}

impl<'de> MapAccess<'de> for Fields<'_> {
    type Error = Refusal;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Refusal> {
        let params = self.params;
        let Some((name, text)) = self
            .fields
            .by_ref()
            .find_map(|name| params.raw(name).map(|text| (*name, text)))
        else {
            return Ok(None);
        };
        self.current = Some((name, text));
        seed.deserialize(name.into_deserializer()).map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Refusal> {
        let (name, text) = self.current.take().expect("a value follows its key");
        seed.deserialize(Value(text))
            .map_err(|Refusal(m)| Refusal(format!("{name} {m}")))
    }
}

/// One given parameter's text as received, read as whatever the field
/// wants: trimmed, and refused when blank unless the field is optional.
struct Value<'a>(&'a str);

impl<'a> Value<'a> {
    fn text(&self) -> Result<&'a str, Refusal> {
        match self.0.trim() {
            "" => Err(Refusal("不能为空".to_owned())),
            text => Ok(text),
        }
    }

    fn integer<T: std::str::FromStr>(&self) -> Result<T, Refusal> {
        let text = self.text()?;
        text.parse()
            .map_err(|_| Refusal(format!("必须是整数，收到 {text:?}")))
    }
}

macro_rules! integers {
    ($($method:ident $visit:ident $ty:ty),*) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Refusal> {
            visitor.$visit(self.integer::<$ty>()?)
        }
    )*};
}

impl<'de> de::Deserializer<'de> for Value<'_> {
    type Error = Refusal;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Refusal> {
        visitor.visit_str(self.text()?)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Refusal> {
        if self.0.trim().is_empty() {
            visitor.visit_none()
        } else {
            visitor.visit_some(self)
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Refusal> {
        if name == Verbatim::NEWTYPE {
            return visitor
                .visit_newtype_struct(IntoDeserializer::<Refusal>::into_deserializer(self.0));
        }
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Refusal> {
        match self.text()? {
            "true" | "1" => visitor.visit_bool(true),
            "false" | "0" => visitor.visit_bool(false),
            other => Err(Refusal(format!("必须是 true 或 false，收到 {other:?}"))),
        }
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Refusal> {
        IntoDeserializer::<Refusal>::into_deserializer(self.text()?)
            .deserialize_enum(name, variants, visitor)
    }

    integers! {
        deserialize_i8 visit_i8 i8, deserialize_i16 visit_i16 i16,
        deserialize_i32 visit_i32 i32, deserialize_i64 visit_i64 i64,
        deserialize_u8 visit_u8 u8, deserialize_u16 visit_u16 u16,
        deserialize_u32 visit_u32 u32, deserialize_u64 visit_u64 u64
    }

    serde::forward_to_deserialize_any! {
        i128 u128 f32 f64 char str string bytes byte_buf unit unit_struct seq
        tuple tuple_struct map struct identifier ignored_any
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;
    use smartship_api::fields::{Bounded, Id, Line};

    #[derive(Debug, Deserialize)]
    struct Probe {
        package_id: Id,
        #[serde(alias = "ver")]
        version: Option<Line<8>>,
        #[serde(default)]
        page: Bounded<1, 9, 3>,
        #[serde(default)]
        list: Verbatim,
    }

    fn decode(pairs: &[(&str, &str)]) -> Result<Probe, String> {
        let p = Params::from_pairs(pairs);
        p.decode::<Probe>().map_err(|e| match e {
            ApiError::Business(_, m) => m,
            other => format!("{other:?}"),
        })
    }

    #[test]
    fn fields_are_read_by_name_trimmed_and_refused_by_name() {
        let p = decode(&[("package_id", " 7 "), ("version", "1.0"), ("other", "x")]).unwrap();
        assert_eq!(p.package_id, Id(7));
        assert_eq!(p.version.unwrap().as_str(), "1.0");
        assert_eq!(p.page.get(), 3, "an absent bounded integer is its default");
        assert_eq!(decode(&[]).unwrap_err(), "package_id 不能为空");
        assert_eq!(
            decode(&[("package_id", "  ")]).unwrap_err(),
            "package_id 不能为空",
            "blank counts as absent"
        );
        assert_eq!(
            decode(&[("package_id", "x")]).unwrap_err(),
            "package_id 必须是正整数，收到 \"x\""
        );
        assert_eq!(
            decode(&[("package_id", "1"), ("version", "123456789")]).unwrap_err(),
            "version 长度 9 超过上限 8 个字符"
        );
        assert_eq!(
            decode(&[("package_id", "1"), ("page", "0")]).unwrap_err(),
            "page 必须是 1 到 9 之间的整数"
        );
        assert!(
            decode(&[("package_id", "1"), ("version", "")])
                .unwrap()
                .version
                .is_none()
        );
        let p = decode(&[("package_id", "1"), ("list", ""), ("page", " ")]).unwrap();
        assert_eq!(
            p.list.as_deref(),
            Some(""),
            "a verbatim field tells empty from absent"
        );
        assert_eq!(p.page.get(), 3, "a blank bounded integer is its default");
        let p = decode(&[("package_id", "1"), ("list", " a, b ")]).unwrap();
        assert_eq!(p.list.as_deref(), Some(" a, b "));
        assert!(decode(&[("package_id", "1")]).unwrap().list.is_absent());
        let by_alias = decode(&[("package_id", "1"), ("ver", "2.0")]).unwrap();
        assert_eq!(by_alias.version.unwrap().as_str(), "2.0");
        assert_eq!(
            decode(&[("package_id", "1"), ("ver", "2"), ("version", "2")]).unwrap_err(),
            "version 与它的另一种写法不能同时给出"
        );
    }
}
