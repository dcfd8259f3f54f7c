//! readme.rs: the Rust example of README.md and of docs/library.md is examples/readme.rs,
//! which cargo compiles, so both pages show code that builds against this crate.

use std::fs;
use std::path::Path;

#[test]
fn readme_example_is_examples_readme_rs() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let example = fs::read_to_string(root.join("examples/readme.rs")).expect("examples/readme.rs");
    // The example after its leading comment.
    let code: String = example.lines().skip_while(|l| l.starts_with("//")).map(|l| format!("{}\n", l)).collect();
    for page in ["README.md", "docs/library.md"] {
        let text = fs::read_to_string(root.join("..").join(page)).expect(page);
        let blocks: Vec<&str> = text.split("```rust\n").skip(1).filter_map(|b| b.split("```\n").next()).collect();
        assert!(blocks.contains(&code.as_str()), "no ```rust block of {} is examples/readme.rs:\n{}", page, code);
    }
}
