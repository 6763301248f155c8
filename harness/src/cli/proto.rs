//! `harness proto`: questions about the protocol itself. `diff` compares the harness's protocol
//! with an SDK's (see the `drift` crate) and exits 1 on any wire-incompatible difference.

use std::path::{Path, PathBuf};

use drift::{LoadedSource, Report};

use super::exit;

#[derive(clap::Args)]
pub struct ProtoArgs {
    #[command(subcommand)]
    command: ProtoCommand,
}

#[derive(clap::Subcommand)]
enum ProtoCommand {
    /// Compare the harness's protocol with an SDK's: exit 1 if they differ on the wire.
    Diff(DiffArgs),
}

#[derive(clap::Args)]
struct DiffArgs {
    /// A directory of .proto files, a Python package of generated *_pb2.py modules, a .proto file, or a serialized FileDescriptorSet.
    #[arg(value_name = "SOURCE")]
    source: PathBuf,
    /// Also write the differences as JSON to this file.
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
}

/// What `--json` writes: where the SDK's protocol came from, then the report.
#[derive(serde::Serialize)]
struct JsonOutput<'a> {
    source: &'a Path,
    source_kind: drift::SourceKind,
    source_files: usize,
    #[serde(flatten)]
    report: &'a Report,
}

pub async fn proto_command(args: ProtoArgs) -> u8 {
    match args.command {
        ProtoCommand::Diff(args) => diff(&args.source, args.json.as_deref()),
    }
}

/// Compares the harness's protocol with the one at `source`, prints the
/// differences (and writes them to `json`): exit 1 if they differ on the wire.
pub fn diff(source: &Path, json: Option<&Path>) -> u8 {
    let loaded = match drift::load(source) {
        Ok(loaded) => loaded,
        Err(err) => {
            eprintln!("error: {err}");
            return exit::BAD_INPUT;
        }
    };
    let report = match drift::compare(
        mm_plugin_proto::descriptor_pool(),
        &loaded.pool,
        mm_plugin_proto::PACKAGE,
    ) {
        Ok(report) => report,
        Err(err) => {
            eprintln!("error: {}: {err}", source.display());
            return exit::BAD_INPUT;
        }
    };
    println!(
        "Comparing the harness's protocol ({}) with {} ({} {})\n",
        report.package,
        source.display(),
        loaded.files,
        loaded.kind
    );
    print!("{}", report.render_text());
    if let Some(path) = json
        && let Err(err) = write_json(path, source, &loaded, &report)
    {
        eprintln!("error: cannot write {}: {err}", path.display());
        return exit::BAD_INPUT;
    }
    if report.has_wire_incompatible() {
        exit::FAILED
    } else {
        exit::PASSED
    }
}

fn write_json(
    path: &Path,
    source: &Path,
    loaded: &LoadedSource,
    report: &Report,
) -> std::io::Result<()> {
    let output = JsonOutput {
        source,
        source_kind: loaded.kind,
        source_files: loaded.files,
        report,
    };
    let mut text = serde_json::to_string_pretty(&output).map_err(std::io::Error::other)?;
    text.push('\n');
    std::fs::write(path, text)
}
