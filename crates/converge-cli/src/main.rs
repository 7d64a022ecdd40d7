//! The `converge` command-line tool (work in progress).

fn main() {
    println!("converge: no subcommands yet");
}
