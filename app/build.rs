//! `include_dir!` embeds the admin console's bundle and the demo seeds, but cargo does not
//! watch the directories it reads: rebuild when their files change.
fn main() {
    println!("cargo:rerun-if-changed=web/dist");
    println!("cargo:rerun-if-changed=../seeds");
}
