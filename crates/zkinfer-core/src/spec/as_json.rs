//! Serde adapter writing a [`ModelSpec`] as its JSON text, so that binary formats (bincode)
//! carry it exactly as the spec file does: fields that JSON omits at their default stay
//! omitted without shifting the binary layout, and the digest is unchanged.

use serde::{de::Error as _, Deserialize, Deserializer, Serialize, Serializer};

use super::ModelSpec;

/// Serializes `spec` as a JSON string.
pub fn serialize<S: Serializer>(spec: &ModelSpec, s: S) -> Result<S::Ok, S::Error> {
    let json = serde_json::to_string(spec).map_err(serde::ser::Error::custom)?;
    json.serialize(s)
}

/// Parses a spec from a JSON string.
pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<ModelSpec, D::Error> {
    let json = String::deserialize(d)?;
    serde_json::from_str(&json).map_err(D::Error::custom)
}
