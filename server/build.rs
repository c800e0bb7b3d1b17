// `sqlx::migrate!` embeds the migrations at compile time; a new file in migrations/ must
// rebuild the binary, which cargo only knows when told.
fn main() {
    println!("cargo:rerun-if-changed=../migrations");
}
