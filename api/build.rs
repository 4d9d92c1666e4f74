// The SPA is built into the binary (http/assets.rs): rebuild when Trunk writes a new one.
fn main() {
    println!("cargo:rerun-if-changed=../frontend/dist");
    println!("cargo:rerun-if-changed=../frontend/dist/index.html");
}
