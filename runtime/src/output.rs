//! What a tool body returns, and how it reaches the client.

use serde::Serialize;
use serde_json::{Map, Value};

use crate::reject::{Gate, Reject};

/// A tool's successful result: text for the model, and optional structured content.
#[derive(Debug, Clone, PartialEq)]
pub struct Output {
    /// The text content block.
    pub text: String,
    /// The `structuredContent` of the result, matching the tool's output schema.
    pub structured: Option<Value>,
    /// Where `text` came from, when it is stored or external content: the
    /// output stage then wraps it in `<untrusted_content source="…">`.
    pub source: Option<String>,
    /// A line the server writes before untrusted content, outside the delimiters.
    pub preface: Option<String>,
}

impl Output {
    /// A text-only result.
    pub fn text(text: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            structured: None,
            source: None,
            preface: None,
        }
    }

    /// Structured content, with its JSON text as the text block.
    pub fn structured(value: Value) -> Self {
        Self {
            text: value.to_string(),
            structured: Some(value),
            source: None,
            preface: None,
        }
    }
}

/// A value a tool body may return in `Ok(..)`.
///
/// Numbers become the text `n` plus structured content `{"result": n}`; strings
/// are returned unchanged; [`Json`] carries any serializable value.
pub trait IntoOutput {
    /// Converts the value, refusing what cannot be returned faithfully.
    fn into_output(self) -> Result<Output, Reject>;

    /// The JSON Schema of the structured content, when there is any.
    fn output_schema() -> Option<Map<String, Value>> {
        None
    }

    /// Whether the value carries stored or external content, which the output
    /// stage spotlights.
    const UNTRUSTED: bool = false;
}

/// Content from storage or the network, returned to the model as data: the
/// output stage redacts its secrets, wraps it in delimiters it cannot close,
/// and flags injection signatures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Untrusted {
    source: String,
    content: String,
    preface: Option<String>,
}

impl Untrusted {
    /// `content` that came from `source` (such as `document:3`). The label
    /// keeps ASCII letters, digits and `: - _ . /` as they are and
    /// percent-encodes every other byte (`notes:1,2` is shown as
    /// `notes:1%2C2`), up to 128 bytes, so it cannot leave its attribute.
    pub fn new(source: impl Into<String>, content: impl Into<String>) -> Self {
        Self {
            source: source.into(),
            content: content.into(),
            preface: None,
        }
    }

    /// A line of the server's own, shown before the delimited content.
    pub fn with_preface(mut self, preface: impl Into<String>) -> Self {
        self.preface = Some(preface.into());
        self
    }
}

impl IntoOutput for Untrusted {
    fn into_output(self) -> Result<Output, Reject> {
        Ok(Output {
            text: self.content,
            structured: None,
            source: Some(self.source),
            preface: self.preface,
        })
    }

    const UNTRUSTED: bool = true;
}

impl IntoOutput for Output {
    fn into_output(self) -> Result<Output, Reject> {
        Ok(self)
    }
}

impl IntoOutput for String {
    fn into_output(self) -> Result<Output, Reject> {
        Ok(Output::text(self))
    }
}

impl IntoOutput for &'static str {
    fn into_output(self) -> Result<Output, Reject> {
        Ok(Output::text(self))
    }
}

fn number_schema(json_type: &str) -> Option<Map<String, Value>> {
    let schema = schemars::json_schema!({
        "type": "object",
        "properties": { "result": { "type": json_type } },
        "required": ["result"],
        "additionalProperties": false,
    });
    schema.as_object().cloned()
}

fn number(value: Value, text: String) -> Output {
    let mut structured = Map::new();
    structured.insert("result".to_owned(), value);
    Output {
        text,
        structured: Some(Value::Object(structured)),
        source: None,
        preface: None,
    }
}

macro_rules! into_output_float {
    ($($ty:ty),*) => {$(
        impl IntoOutput for $ty {
            fn into_output(self) -> Result<Output, Reject> {
                // JSON has no NaN or infinity: refuse rather than send `null`.
                if !self.is_finite() {
                    return Err(Reject::at(Gate::Output, Some("result".into()), "result is not a finite number"));
                }
                Ok(number(Value::from(self), self.to_string()))
            }

            fn output_schema() -> Option<Map<String, Value>> {
                number_schema("number")
            }
        }
    )*};
}

into_output_float!(f32, f64);

macro_rules! into_output_int {
    ($($ty:ty),*) => {$(
        impl IntoOutput for $ty {
            fn into_output(self) -> Result<Output, Reject> {
                Ok(number(Value::from(self), self.to_string()))
            }

            fn output_schema() -> Option<Map<String, Value>> {
                number_schema("integer")
            }
        }
    )*};
}

into_output_int!(i8, i16, i32, i64, u8, u16, u32, u64);

impl IntoOutput for bool {
    fn into_output(self) -> Result<Output, Reject> {
        Ok(number(Value::from(self), self.to_string()))
    }

    fn output_schema() -> Option<Map<String, Value>> {
        number_schema("boolean")
    }
}

/// Any serializable value, returned as structured content and as its JSON text.
#[derive(Debug, Clone, PartialEq)]
pub struct Json<T>(pub T);

impl<T: Serialize + schemars::JsonSchema> IntoOutput for Json<T> {
    fn into_output(self) -> Result<Output, Reject> {
        let value = serde_json::to_value(&self.0)
            .map_err(|_| Reject::at(Gate::Output, None, "result cannot be represented as JSON"))?;
        Ok(Output::structured(value))
    }

    fn output_schema() -> Option<Map<String, Value>> {
        let schema = schemars::schema_for!(T);
        schema.as_object().cloned()
    }
}

/// A serializable value that holds stored or external content (rows a user
/// wrote, a fetched page): returned as structured content like [`Json`],
/// while its text block is spotlit like [`Untrusted`] (redacted, scanned for
/// injection signatures, wrapped in delimiters it cannot close) and its
/// findings are audited. `structuredContent` carries the redacted value
/// itself, which a client shows a model as it is.
#[derive(Debug, Clone, PartialEq)]
pub struct UntrustedJson<T> {
    source: String,
    value: T,
}

impl<T> UntrustedJson<T> {
    /// `value`, from `source` (shown as [`Untrusted::new`] shows it).
    pub fn new(source: impl Into<String>, value: T) -> Self {
        Self {
            source: source.into(),
            value,
        }
    }
}

impl<T: Serialize + schemars::JsonSchema> IntoOutput for UntrustedJson<T> {
    fn into_output(self) -> Result<Output, Reject> {
        let mut output = Json(self.value).into_output()?;
        output.source = Some(self.source);
        Ok(output)
    }

    fn output_schema() -> Option<Map<String, Value>> {
        Json::<T>::output_schema()
    }

    const UNTRUSTED: bool = true;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_carry_text_and_structured_result() {
        let out = 3.5f64.into_output().unwrap();
        assert_eq!(out.text, "3.5");
        assert_eq!(out.structured, Some(serde_json::json!({"result": 3.5})));
        assert_eq!(1e9f64.into_output().unwrap().text, "1000000000");
    }

    #[test]
    fn non_finite_results_are_refused() {
        for x in [f64::INFINITY, f64::NEG_INFINITY, f64::NAN] {
            assert_eq!(x.into_output().unwrap_err().gate(), Gate::Output);
        }
    }

    #[test]
    fn strings_are_returned_unchanged() {
        let out = String::from("hi\tthere").into_output().unwrap();
        assert_eq!(out, Output::text("hi\tthere"));
        assert_eq!(<String as IntoOutput>::output_schema(), None);
    }
}
