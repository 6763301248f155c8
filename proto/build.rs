//! Compiles every `.proto` file beside this crate with protox (pure Rust, so
//! no system `protoc` is needed) and generates prost messages plus tonic
//! clients and servers. The encoded descriptor set is kept too: the harness
//! uses it at run time to turn suite JSON into wire messages and back.

use std::{env, fs, path::PathBuf};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let proto_dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR")?);
    let mut files: Vec<PathBuf> = fs::read_dir(&proto_dir)?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.extension().is_some_and(|ext| ext == "proto"))
        .collect();
    files.sort();
    println!("cargo:rerun-if-changed={}", proto_dir.display());
    for file in &files {
        println!("cargo:rerun-if-changed={}", file.display());
    }

    // Upstream imports siblings by bare file name, so the folder itself is
    // the include root.
    let descriptors = protox::compile(&files, [&proto_dir])?;
    let out_dir = PathBuf::from(env::var("OUT_DIR")?);
    fs::write(
        out_dir.join("descriptor_set.bin"),
        prost::Message::encode_to_vec(&descriptors),
    )?;

    // Type names let the harness check, when it registers a handler, that
    // the request and response types really belong to the RPC it serves.
    let mut config = tonic_prost_build::Config::new();
    config.enable_type_names();
    tonic_prost_build::configure()
        .build_client(true)
        .build_server(true)
        .compile_fds_with_config(descriptors, config)?;
    Ok(())
}
