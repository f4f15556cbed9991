//! The dependency graph is the architecture (DESIGN.md): every edge between Vigil crates points
//! down a layer, and stage crates never depend on each other. This reads `cargo metadata`.

use std::collections::HashMap;
use std::process::Command;

/// Rank of each crate: a crate may depend only on crates of lower rank.
fn layers() -> HashMap<&'static str, (u8, bool)> {
    // (rank, is a stage crate)
    HashMap::from([
        ("vigil-event", (0, false)),
        ("vigil-codec", (1, false)),
        ("vigil-config", (1, false)),
        ("vigil-pipeline", (2, false)),
        ("vigil-tls", (2, false)),
        ("vigil-collect", (3, true)),
        ("vigil-channel", (3, true)),
        ("vigil-normalize", (3, true)),
        ("vigil-rules", (3, true)),
        ("vigil-store", (3, true)),
        ("vigil-api", (4, false)),
        ("vigil", (5, false)),
    ])
}

#[test]
fn crate_dependencies_point_down_and_stages_stay_apart() {
    let output = Command::new(env!("CARGO"))
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo metadata");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let metadata: serde_json::Value =
        serde_json::from_slice(&output.stdout).expect("metadata JSON");
    let layers = layers();
    let mut violations = Vec::new();
    let mut checked = 0;
    for package in metadata["packages"].as_array().expect("packages") {
        let name = package["name"].as_str().expect("name");
        if name == "vigil-benches" {
            continue; // benchmarks measure every layer
        }
        let Some(&(rank, stage)) = layers.get(name) else {
            violations.push(format!(
                "{name} is not in the layer table: add it to DESIGN.md and this test"
            ));
            continue;
        };
        for dependency in package["dependencies"].as_array().expect("dependencies") {
            let dependency_name = dependency["name"].as_str().expect("dependency name");
            if dependency["kind"].as_str() == Some("dev") {
                continue;
            }
            let Some(&(dependency_rank, dependency_stage)) = layers.get(dependency_name) else {
                continue;
            };
            checked += 1;
            if dependency_rank >= rank {
                violations.push(format!("{name} → {dependency_name} does not point down"));
            }
            if stage && dependency_stage {
                violations.push(format!("{name} → {dependency_name} joins two stage crates"));
            }
        }
    }
    assert!(
        checked >= 10,
        "only {checked} edges checked: is the workspace read?"
    );
    assert!(violations.is_empty(), "{violations:#?}");
}
