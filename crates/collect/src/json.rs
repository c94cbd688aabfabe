//! Building describe-API JSON by hand, and writing it byte-stable.
//!
//! The SDK's Rust types are not serde-serializable, so [`super::convert`] builds
//! `serde_json::Value`s with [`Obj`], omitting absent fields as the AWS CLI does. [`canonical`]
//! then sorts every object's keys (whatever serde_json's map order is built with), so two
//! snapshots of the same state are byte-identical and diff cleanly in git.

use serde_json::{Map, Value};

/// A JSON object under construction; `None` values are left out.
#[derive(Debug, Default)]
pub struct Obj(Map<String, Value>);

impl Obj {
    pub fn new() -> Obj {
        Obj::default()
    }

    pub fn str(mut self, key: &str, v: Option<&str>) -> Obj {
        if let Some(v) = v {
            self.0.insert(key.into(), Value::String(v.into()));
        }
        self
    }

    pub fn bool(mut self, key: &str, v: Option<bool>) -> Obj {
        if let Some(v) = v {
            self.0.insert(key.into(), Value::Bool(v));
        }
        self
    }

    pub fn int(mut self, key: &str, v: Option<i64>) -> Obj {
        if let Some(v) = v {
            self.0.insert(key.into(), Value::from(v));
        }
        self
    }

    pub fn val(mut self, key: &str, v: Option<Value>) -> Obj {
        if let Some(v) = v {
            self.0.insert(key.into(), v);
        }
        self
    }

    /// A list, written when the response had it (even empty), each element converted by `f`.
    pub fn list<T>(self, key: &str, v: &Option<Vec<T>>, f: impl Fn(&T) -> Value) -> Obj {
        let list = v.as_ref().map(|v| Value::Array(v.iter().map(f).collect()));
        self.val(key, list)
    }

    pub fn build(self) -> Value {
        Value::Object(self.0)
    }
}

/// `value` with every object's keys in sorted order, recursively.
pub fn canonical(value: Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(String, Value)> = map.into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            Value::Object(
                entries
                    .into_iter()
                    .map(|(k, v)| (k, canonical(v)))
                    .collect(),
            )
        }
        Value::Array(items) => Value::Array(items.into_iter().map(canonical).collect()),
        v => v,
    }
}

/// The bytes written for a snapshot file: canonical, pretty-printed, newline-terminated.
pub fn to_bytes(value: Value) -> Vec<u8> {
    let mut bytes = serde_json::to_vec_pretty(&canonical(value)).expect("a Value serializes");
    bytes.push(b'\n');
    bytes
}

/// Sorts a list of JSON values by their canonical text: for lists whose order AWS does not
/// define and the semantics ignore (tags, security-group rules), so output is stable.
pub fn sort_unordered(items: &mut [Value]) {
    items.sort_by_cached_key(|v| serde_json::to_string(&canonical(v.clone())).unwrap_or_default());
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn keys_are_sorted_at_every_depth_and_output_is_stable() {
        let a = Obj::new()
            .str("VpcId", Some("vpc-1"))
            .str("CidrBlock", Some("10.0.0.0/16"))
            .val("Tags", Some(json!([{"Value": "x", "Key": "Name"}])))
            .str("Absent", None)
            .build();
        let text = String::from_utf8(to_bytes(a.clone())).unwrap();
        assert_eq!(
            text,
            "{\n  \"CidrBlock\": \"10.0.0.0/16\",\n  \"Tags\": [\n    {\n      \"Key\": \"Name\",\n      \"Value\": \"x\"\n    }\n  ],\n  \"VpcId\": \"vpc-1\"\n}\n"
        );
        assert_eq!(to_bytes(a.clone()), to_bytes(a));
    }

    #[test]
    fn an_absent_list_is_left_out_and_an_empty_one_written() {
        let v = Obj::new()
            .list::<u8>("A", &None, |_| Value::Null)
            .list::<u8>("B", &Some(vec![]), |_| Value::Null)
            .build();
        assert_eq!(v, json!({"B": []}));
    }
}
