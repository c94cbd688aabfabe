//! Terraform plans (`terraform show -json PLAN`) applied to a model. (In progress.)

use std::path::Path;

use serde_json::Value;

use super::{Applied, ChangeError};
use crate::model::Model;

pub fn parse(text: &str, file: &Path) -> Result<Value, ChangeError> {
    serde_json::from_str(text).map_err(|e| ChangeError {
        op: file.display().to_string(),
        message: format!("not JSON: {e}"),
    })
}

pub fn apply(_model: &mut Model, _plan: &Value) -> Result<Applied, ChangeError> {
    Err(ChangeError {
        op: "plan".into(),
        message: "Terraform plans are not read yet".into(),
    })
}
