//! Running cfn-guard in-process.
//!
//! `cfn_guard::run_checks` reports through an 8 KiB `BufWriter` whose unflushed tail is all it
//! returns, so a long report comes back cut; the `validate` command with a JSON payload and
//! structured output writes into a plain buffer instead, and is what runs here. cfn-guard
//! panics on some rule constructs (an `unreachable!` in its evaluator), so each call runs
//! under `catch_unwind` and a panic becomes a [`PolicyError::Evaluate`].

use std::io::Cursor;
use std::panic::{AssertUnwindSafe, catch_unwind};

use cfn_guard::commands::Executable;
use cfn_guard::commands::validate::{OutputFormatType, ShowSummaryType, parse_rules};
use cfn_guard::utils::reader::{ReadBuffer, Reader};
use cfn_guard::utils::writer::{WriteBuffer, Writer};
use cfn_guard::{CommandBuilder, ValidateBuilder};
use serde_json::{Value, json};

use crate::{PolicyError, PolicyFinding, RuleFile, results};

/// Evaluates `files` together on `data` (a JSON template) and returns every failed check.
pub fn run(data: &str, files: &[&RuleFile]) -> Result<Vec<PolicyFinding>, PolicyError> {
    let group = files
        .iter()
        .map(|f| f.name.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    for file in files {
        parse(file)?;
    }
    let texts: Vec<&str> = files.iter().map(|f| f.text.as_str()).collect();
    let payload = json!({"rules": texts, "data": [data]}).to_string();
    let report = catch_unwind(AssertUnwindSafe(|| validate(payload)))
        .map_err(|panic| evaluate_error(&group, panic_message(panic.as_ref())))?
        .map_err(|message| evaluate_error(&group, message))?;
    Ok(results::findings(&report, files))
}

/// Checks that a file parses, so that its error names the file and the position.
fn parse(file: &RuleFile) -> Result<(), PolicyError> {
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        parse_rules(&file.text, &file.name)
            .map(|_| ())
            .map_err(|e| e.to_string())
    }));
    let message = match outcome {
        Ok(Ok(())) => return Ok(()),
        Ok(Err(message)) => message,
        Err(panic) => panic_message(panic.as_ref()),
    };
    Err(PolicyError::Parse {
        file: file.name.clone(),
        message,
    })
}

/// The `validate` command over a `{"rules": [...], "data": [...]}` payload, with
/// structured JSON output; the parsed report.
fn validate(payload: String) -> Result<Value, String> {
    let command = ValidateBuilder::default()
        .payload(true)
        .structured(true)
        .output_format(OutputFormatType::JSON)
        .show_summary(vec![ShowSummaryType::None])
        .try_build()
        .map_err(|e| e.to_string())?;
    let mut reader = Reader::new(ReadBuffer::Cursor(Cursor::new(payload.into_bytes())));
    let mut writer =
        Writer::new_with_err(WriteBuffer::Vec(Vec::new()), WriteBuffer::Vec(Vec::new()))
            .map_err(|e| e.to_string())?;
    command
        .execute(&mut writer, &mut reader)
        .map_err(|e| e.to_string())?;
    let text = writer.into_string().map_err(|e| e.to_string())?;
    serde_json::from_str(&text).map_err(|e| format!("unreadable cfn-guard report: {e}"))
}

fn evaluate_error(group: &str, message: String) -> PolicyError {
    PolicyError::Evaluate {
        file: group.to_owned(),
        message,
    }
}

/// The text of a caught panic.
fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    let text = panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".to_owned());
    format!("cfn-guard panicked: {text}")
}
