//! The commands: read the template, call the engine, report, write.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use cib_engine::template::{self, Format, Source};
use cib_engine::{Caller, ExpandOptions, Finding, Outcome, Written};
use serde_json::{Map, Value};

use crate::args::{CheckArgs, ExpandArgs, ReportFormat, TemplateArgs, TemplateFormat};
use crate::{io, report};

/// A template read and parsed, or the reason it could not be.
enum Input {
    /// Parsed, with the format it was written in and where its plain scalars were.
    Parsed(Value, Format, Source),
    /// Syntax error: reported as a finding.
    Unparsable(Finding),
}

/// `cib expand`: writes the expanded template, or nothing when there is an error.
pub fn expand(args: &ExpandArgs) -> ExitCode {
    let name = display_name(&args.input.template);
    let (value, input_format, source) = match read(&args.input) {
        Ok(Input::Parsed(value, format, source)) => (value, format, source),
        Ok(Input::Unparsable(finding)) => return fail_with(&name, &[finding]),
        Err(code) => return code,
    };
    let format = match args.format {
        Some(TemplateFormat::Yaml) => Format::Yaml,
        Some(TemplateFormat::Json) => Format::Json,
        None => input_format,
    };
    let mut options = options_for(&args.input, format);
    options.provider_arn = args.provider_arn.clone();
    let Outcome { template, findings } = cib_engine::expand(&value, &options);
    let expanded = match template {
        Some(expanded) if !findings.iter().any(Finding::is_error) => expanded,
        _ => return fail_with(&name, &findings),
    };
    if !findings.is_empty() {
        eprint_text(&report::to_text(&name, &findings));
    }
    let text = match format {
        Format::Yaml => template::to_yaml_with_source(&expanded, &source),
        Format::Json => match template::unknown_tags(&expanded).first() {
            Some((path, tag)) => {
                return fail_message(&format!(
                    "cannot write JSON: {path} has the YAML tag `{tag}`, which JSON cannot \
                     hold; write YAML (--format yaml), or run the tool that reads `{tag}` first"
                ));
            }
            None => template::to_json(&expanded),
        },
    };
    let written = match &args.output {
        Some(path) if !io::is_stdio(path) => io::write_atomic(path, &text),
        _ => io::write_stdout(&text),
    };
    match written {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail_message(&e.to_string()),
    }
}

/// `cib check`: prints every finding to standard output; exit 1 on any error.
pub fn check(args: &CheckArgs) -> ExitCode {
    let name = display_name(&args.input.template);
    let (rules, mut findings) = crate::policy::load(&args.rules);
    match read(&args.input) {
        Ok(Input::Parsed(value, format, _)) if args.live => {
            let options = options_for(&args.input, format);
            match crate::live::check_findings(&value, &options, args.stack_name.as_deref()) {
                Ok(found) => findings.extend(found),
                Err(message) => return fail_message(&message),
            }
            let expanded = cib_engine::expand(&value, &options).template;
            findings.extend(crate::quota::findings(
                expanded.as_ref(),
                args.codebuild_quota,
            ));
            findings.extend(crate::policy::findings(expanded.as_ref(), &rules));
        }
        Ok(Input::Parsed(value, format, _)) => {
            let outcome = cib_engine::expand(&value, &options_for(&args.input, format));
            findings.extend(outcome.findings);
            findings.extend(crate::policy::findings(outcome.template.as_ref(), &rules));
        }
        Ok(Input::Unparsable(finding)) => findings.push(finding),
        Err(code) => return code,
    }
    let text = match args.format {
        ReportFormat::Text => report::to_text(&name, &findings),
        ReportFormat::Json => report::to_json(&name, &findings),
        ReportFormat::Sarif => crate::sarif::to_sarif(&name, &findings),
    };
    if let Err(e) = io::write_stdout(&text) {
        return fail_message(&e.to_string());
    }
    if findings.iter().any(Finding::is_error) {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

/// Reads and parses the template; an I/O error is reported here and becomes exit 1.
fn read(args: &TemplateArgs) -> Result<Input, ExitCode> {
    let bytes = io::read_input(&args.template).map_err(|e| fail_message(&e.to_string()))?;
    Ok(match template::parse_with_source(&bytes) {
        Ok((value, format, source)) => Input::Parsed(value, format, source),
        Err(error) => Input::Unparsable(report::parse_error_finding(&error)),
    })
}

/// The engine's options from the command line and the environment; the expansion is
/// measured as it would be written in `format` (`cib check` measures what `cib expand`
/// writes by default: the input's format).
fn options_for(args: &TemplateArgs, format: Format) -> ExpandOptions {
    let parameters: Map<String, Value> = args
        .parameter_overrides
        .iter()
        .map(|(key, value)| (key.clone(), Value::String(value.clone())))
        .collect();
    ExpandOptions {
        caller: Caller::Cli,
        region: crate::args::resolve_region(args.region.as_deref(), |name| {
            std::env::var(name).ok()
        }),
        parameters,
        provider_arn: None,
        written: match format {
            Format::Yaml => Written::Yaml,
            Format::Json => Written::PrettyJson,
        },
    }
}

/// How the template is named in reports: its path, or `<stdin>`.
fn display_name(path: &Path) -> String {
    if io::is_stdio(path) {
        "<stdin>".to_owned()
    } else {
        path.display().to_string()
    }
}

/// Reports findings on standard error and exits 1.
fn fail_with(name: &str, findings: &[Finding]) -> ExitCode {
    eprint_text(&report::to_text(name, findings));
    ExitCode::FAILURE
}

/// Reports one error message on standard error and exits 1.
fn fail_message(message: &str) -> ExitCode {
    eprint_text(&format!("error: {message}\n"));
    ExitCode::FAILURE
}

/// Writes to standard error; a closed standard error is ignored (never a panic).
fn eprint_text(text: &str) {
    let _ = std::io::stderr().lock().write_all(text.as_bytes());
}
