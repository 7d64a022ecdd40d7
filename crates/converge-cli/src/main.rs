//! The `converge` command-line tool: inspect, export, import, merge and sync Automerge files.
//! See `docs/cli.md`.

mod demo;
mod error;
mod files;
mod inspect;
mod json;
mod sync;

use std::collections::BTreeSet;
use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::{Parser, Subcommand};
use converge::sync::SyncState;
use converge::{ChangeHash, Document, ROOT, ValueTree};

use crate::error::CliError;
use crate::sync::Role;

/// Inspect, export, import, merge and sync Automerge documents.
#[derive(Debug, Parser)]
#[command(name = "converge", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Describe every chunk of a file (or a sync message, or a sync state).
    Inspect {
        /// The file.
        file: PathBuf,
    },
    /// Print the document as JSON.
    Export {
        /// The document.
        file: PathBuf,
        /// Export the document as it was at these heads (hex change hashes).
        #[arg(long, num_args = 1..)]
        heads: Vec<String>,
        /// Read a document that loading refuses because a mark end lies before its begin
        /// (which automerge 0.12 can save): its current values, as automerge's `rescue`.
        #[arg(long, conflicts_with = "heads")]
        rescue: bool,
    },
    /// Build a document from a JSON object.
    Import {
        /// The JSON file (`-` for stdin).
        json: PathBuf,
        /// Where to write the document.
        #[arg(short, long)]
        output: PathBuf,
        /// Strings under these map keys become text objects instead of strings.
        #[arg(long, num_args = 1..)]
        text_keys: Vec<String>,
    },
    /// Merge documents into one.
    Merge {
        /// The documents (at least one).
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Where to write the merged document.
        #[arg(short, long)]
        output: PathBuf,
    },
    /// Save what can be read of a damaged file: its chunks up to the first that does not
    /// decode, changes whose deps are missing kept (automerge's `OnPartialLoad::Ignore`).
    Repair {
        /// The damaged file.
        file: PathBuf,
        /// Where to write the repaired document.
        #[arg(short, long)]
        output: PathBuf,
        /// Also take a document chunk whose stored heads are not those of its changes
        /// (automerge's `load_unverified_heads`).
        #[arg(long)]
        unchecked: bool,
        /// Turn every string value into a text object (automerge's migration for documents
        /// written by JavaScript before 2.1).
        #[arg(long)]
        migrate_strings: bool,
    },
    /// Write a copy of a document with its history and shape but none of its content
    /// (actors, keys, strings, numbers, messages replaced), for a bug report (automerge's
    /// `anonymize`).
    Anonymize {
        /// The document.
        file: PathBuf,
        /// Where to write the copy.
        #[arg(short, long)]
        output: PathBuf,
        /// Draw the replacements from this seed (the same seed, the same copy).
        #[arg(long)]
        seed: Option<u64>,
    },
    /// The patches from one set of heads to another, one JSON object per line (automerge's
    /// `diff`).
    Diff {
        /// The document.
        file: PathBuf,
        /// The heads to start from (hex change hashes; none: the empty document).
        #[arg(long, num_args = 1..)]
        from: Vec<String>,
        /// The heads to end at (none: the document's heads).
        #[arg(long, num_args = 1..)]
        to: Vec<String>,
    },
    /// The changes since some heads (all without `--since`) as one bundle chunk (automerge
    /// 0.12's experimental `bundle`: far smaller than the change chunks; a document that
    /// has the changes it depends on loads it).
    Bundle {
        /// The document.
        file: PathBuf,
        /// Where to write the bundle.
        #[arg(short, long)]
        output: PathBuf,
        /// Leave out the changes these heads (hex change hashes) reach.
        #[arg(long, num_args = 1..)]
        since: Vec<String>,
    },
    /// One line per fragment of the history (automerge 0.12's experimental `fragments`):
    /// head, level, boundary, member and checkpoint counts; with `-o DIR`, each also
    /// written to DIR as a change chunk or a bundle named by its head.
    Fragments {
        /// The document.
        file: PathBuf,
        /// Only fragments of at least this level (1: leave out the loose changes).
        #[arg(long, default_value_t = 0)]
        min_level: usize,
        /// A directory to write each fragment's bytes to (`HEAD.fragment`).
        #[arg(short, long)]
        output: Option<PathBuf>,
    },
    /// One line per change: hash, actor, seq, start op, op count, deps, time, message.
    Changes {
        /// The document.
        file: PathBuf,
    },
    /// Sync a document with another `converge sync` over TCP, then save it.
    Sync {
        /// The document; it is replaced (atomically) by the synced document.
        file: PathBuf,
        /// Wait for one peer on this address (`127.0.0.1:0` picks a free port; the first
        /// line on stderr names the bound address).
        #[arg(long, conflicts_with = "connect", required_unless_present = "connect")]
        listen: Option<String>,
        /// Connect to a peer listening on this address.
        #[arg(long)]
        connect: Option<String>,
        /// Load the sync state from this file if it exists, and save it there afterwards.
        #[arg(long)]
        state: Option<PathBuf>,
        /// Refuse frames larger than this many bytes.
        #[arg(long, default_value_t = sync::DEFAULT_MAX_FRAME)]
        max_frame: u64,
        /// Start from an empty document if FILE does not exist.
        #[arg(long)]
        create: bool,
        /// Give up after this many seconds without progress (connect, accept, each read).
        #[arg(long, default_value_t = 30)]
        timeout: u64,
    },
    /// Two peers on 127.0.0.1 edit one document concurrently, sync over TCP and print the
    /// merged JSON.
    Demo,
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            use clap::error::ErrorKind;
            if matches!(
                e.kind(),
                ErrorKind::DisplayHelp
                    | ErrorKind::DisplayVersion
                    | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
            ) {
                e.exit();
            }
            // Usage errors as one line too (clap's own text spans several).
            let text = e.render().to_string();
            let line = text
                .lines()
                .take_while(|l| !l.starts_with("Usage:"))
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .collect::<Vec<_>>()
                .join(" ");
            let line = line.strip_prefix("error: ").unwrap_or(&line);
            eprintln!("converge: error: {line} (try --help)");
            return ExitCode::from(2);
        }
    };
    match run(cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let line = e.to_string().replace(['\n', '\r'], " ");
            eprintln!("converge: error: {line}");
            ExitCode::FAILURE
        }
    }
}

fn print(text: &str) -> Result<(), CliError> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .or_else(|e| {
            // A closed pipe (`converge export x | head`) is not an error worth reporting.
            if e.kind() == std::io::ErrorKind::BrokenPipe {
                Ok(())
            } else {
                Err(e)
            }
        })
        .map_err(|source| CliError::Io {
            path: PathBuf::from("<stdout>"),
            source,
        })
}

fn run(command: Command) -> Result<(), CliError> {
    match command {
        Command::Inspect { file } => {
            let bytes = files::read(&file)?;
            print(&inspect::inspect(&file, &bytes)?)
        }
        Command::Export {
            file,
            heads,
            rescue,
        } => {
            let tree = if rescue {
                let bytes = files::read(&file)?;
                Document::rescue(&bytes).map_err(|e| CliError::load(&file, e))?
            } else {
                export_tree(&file, &heads)?
            };
            let json = serde_json::to_string_pretty(&json::tree_to_json(&tree))
                .map_err(|e| CliError::Other(format!("writing JSON: {e}")))?;
            print(&format!("{json}\n"))
        }
        Command::Import {
            json: input,
            output,
            text_keys,
        } => {
            let text = if input == Path::new("-") {
                let mut s = String::new();
                std::io::Read::read_to_string(&mut std::io::stdin(), &mut s).map_err(|source| {
                    CliError::Io {
                        path: input.clone(),
                        source,
                    }
                })?;
                s
            } else {
                let bytes = files::read(&input)?;
                String::from_utf8(bytes)
                    .map_err(|_| CliError::Other(format!("{}: not UTF-8 text", input.display())))?
            };
            let value: serde_json::Value =
                serde_json::from_str(&text).map_err(|source| CliError::Json {
                    path: input.clone(),
                    source,
                })?;
            let text_keys: BTreeSet<String> = text_keys.into_iter().collect();
            let mut doc = Document::new();
            let mut tx = doc.transaction();
            json::import_root(&mut tx, &value, &text_keys)?;
            tx.commit()?;
            files::write_atomic(&output, &doc.save())
        }
        Command::Merge {
            files: inputs,
            output,
        } => {
            let mut merged: Option<Document> = None;
            for path in &inputs {
                let other = files::load_document(path)?;
                match merged.as_mut() {
                    None => merged = Some(other),
                    Some(m) => {
                        m.merge(&other).map_err(|e| CliError::load(path, e))?;
                    }
                }
            }
            let Some(mut merged) = merged else {
                return Err(CliError::Other("nothing to merge".to_owned()));
            };
            files::write_atomic(&output, &merged.save())?;
            eprintln!(
                "merged {} file(s): {} change(s), heads {}",
                inputs.len(),
                merged.change_count(),
                join_hashes(&merged.heads())
            );
            Ok(())
        }
        Command::Anonymize { file, output, seed } => {
            let doc = files::load_document(&file)?;
            let mut copy = match seed {
                Some(seed) => doc.anonymize_with_seed(seed)?,
                None => doc.anonymize()?,
            };
            files::write_atomic(&output, &copy.save())?;
            eprintln!(
                "anonymized {} change(s) into {}",
                copy.change_count(),
                output.display()
            );
            Ok(())
        }
        Command::Repair {
            file,
            output,
            unchecked,
            migrate_strings,
        } => {
            use converge::{LoadOptions, OnPartialLoad, StringMigration, VerificationMode};
            let bytes = files::read(&file)?;
            // A file that loads as it is is loaded once; otherwise the load's error is the
            // damage reported, and the file is loaded again keeping what it can.
            let (damage, loaded) = match Document::load(&bytes) {
                Ok(doc) if !migrate_strings => ("no damage found".to_owned(), Some(doc)),
                Ok(_) => ("no damage found".to_owned(), None),
                Err(e) => (CliError::load(&file, e).to_string(), None),
            };
            let mut doc = match loaded {
                Some(doc) => doc,
                None => {
                    let mut options = LoadOptions::new().on_partial_load(OnPartialLoad::Ignore);
                    if unchecked {
                        options = options.verification_mode(VerificationMode::DontCheck);
                    }
                    if migrate_strings {
                        options = options.migrate_strings(StringMigration::ConvertToText);
                    }
                    Document::load_with_options(&bytes, options)
                        .map_err(|e| CliError::load(&file, e))?
                }
            };
            files::write_atomic(&output, &doc.save())?;
            let missing = doc.missing_deps(&[]);
            eprintln!(
                "{damage}; kept {} change(s), heads {}{}",
                doc.change_count(),
                join_hashes(&doc.heads()),
                if missing.is_empty() {
                    String::new()
                } else {
                    format!(
                        "; changes queued for {} missing dep(s): {}",
                        missing.len(),
                        join_hashes(&missing)
                    )
                }
            );
            Ok(())
        }
        Command::Diff { file, from, to } => {
            let doc = files::load_document(&file)?;
            let from = parse_heads(&from)?;
            let mut to = parse_heads(&to)?;
            if to.is_empty() {
                to = doc.heads();
            }
            let mut out = String::new();
            for patch in doc.diff(&from, &to)? {
                let line = serde_json::to_string(&json::patch_to_json(&patch))
                    .map_err(|e| CliError::Other(format!("writing JSON: {e}")))?;
                out.push_str(&line);
                out.push('\n');
            }
            print(&out)
        }
        Command::Bundle {
            file,
            output,
            since,
        } => {
            let doc = files::load_document(&file)?;
            let since = parse_heads(&since)?;
            let hashes: Vec<ChangeHash> =
                doc.get_changes(&since).iter().map(|c| c.hash()).collect();
            let bundle = doc.bundle(&hashes)?;
            files::write_atomic(&output, &bundle)?;
            eprintln!(
                "bundled {} change(s) into {} ({} bytes)",
                hashes.len(),
                output.display(),
                bundle.len()
            );
            Ok(())
        }
        Command::Fragments {
            file,
            min_level,
            output,
        } => {
            let doc = files::load_document(&file)?;
            let fragments = doc.fragments(min_level..);
            let mut out = String::new();
            for f in &fragments {
                out.push_str(&format!(
                    "{} level={} boundary={} members={} checkpoints={}\n",
                    f.head,
                    f.level,
                    join_hashes(&f.boundary),
                    f.members.len(),
                    f.checkpoints.len(),
                ));
            }
            if let Some(dir) = output {
                let bytes = doc.bundle_fragments(fragments.iter().cloned());
                for (f, b) in fragments.iter().zip(&bytes) {
                    files::write_atomic(&dir.join(format!("{}.fragment", f.head)), b)?;
                }
                eprintln!("wrote {} fragment(s) to {}", bytes.len(), dir.display());
            }
            print(&out)
        }
        Command::Changes { file } => {
            let doc = files::load_document(&file)?;
            let mut out = String::new();
            for change in doc.get_changes(&[]) {
                let message = change
                    .message()
                    .map_or_else(|| "-".to_owned(), |m| format!("{m:?}"));
                out.push_str(&format!(
                    "{} actor={} seq={} start_op={} ops={} deps={} time={} message={}\n",
                    change.hash(),
                    change.actor(),
                    change.seq(),
                    change.start_op(),
                    change.num_ops(),
                    join_hashes(change.deps()),
                    change.time(),
                    message,
                ));
            }
            print(&out)
        }
        Command::Sync {
            file,
            listen,
            connect,
            state,
            max_frame,
            create,
            timeout,
        } => sync_command(SyncArgs {
            file,
            listen,
            connect,
            state,
            max_frame,
            create,
            timeout: Duration::from_secs(timeout.max(1)),
        }),
        Command::Demo => demo::run(),
    }
}

fn join_hashes(hashes: &[ChangeHash]) -> String {
    if hashes.is_empty() {
        return "-".to_owned();
    }
    hashes
        .iter()
        .map(ChangeHash::to_hex)
        .collect::<Vec<_>>()
        .join(",")
}

/// The values of the document in `file`, now or at `heads` (hex hashes) if any are given.
fn export_tree(file: &Path, heads: &[String]) -> Result<ValueTree, CliError> {
    let doc = files::load_document(file)?;
    let heads = parse_heads(heads)?;
    Ok(if heads.is_empty() {
        doc.value_tree(&ROOT)?
    } else {
        doc.value_tree_at(&ROOT, &heads)?
    })
}

fn parse_heads(heads: &[String]) -> Result<Vec<ChangeHash>, CliError> {
    heads
        .iter()
        .flat_map(|h| h.split(','))
        .filter(|h| !h.is_empty())
        .map(|h| {
            h.parse().map_err(|source| CliError::BadHead {
                text: h.to_owned(),
                source,
            })
        })
        .collect()
}

struct SyncArgs {
    file: PathBuf,
    listen: Option<String>,
    connect: Option<String>,
    state: Option<PathBuf>,
    max_frame: u64,
    create: bool,
    timeout: Duration,
}

fn sync_command(args: SyncArgs) -> Result<(), CliError> {
    // Nothing is printed before the `listening on` line, which must come first.
    let created = args.create && !args.file.exists();
    let mut doc = if created {
        Document::new()
    } else {
        files::load_document(&args.file)?
    };
    let mut state = match &args.state {
        Some(path) if path.exists() => {
            let bytes = files::read(path)?;
            SyncState::decode(&bytes).map_err(|e| {
                CliError::Other(format!("{}: not a valid sync state: {e}", path.display()))
            })?
        }
        _ => SyncState::new(),
    };
    let net = |context: String| move |source| CliError::Net { context, source };
    let (mut stream, role) = match (&args.listen, &args.connect) {
        (Some(addr), _) => {
            let listener = TcpListener::bind(addr).map_err(net(format!("listening on {addr}")))?;
            let local = listener
                .local_addr()
                .map_err(net(format!("listening on {addr}")))?;
            eprintln!("listening on {local}");
            let stream = accept_within(&listener, args.timeout)?;
            (stream, Role::Listening)
        }
        (None, Some(addr)) => (connect_within(addr, args.timeout)?, Role::Connecting),
        (None, None) => {
            return Err(CliError::Other(
                "one of --listen or --connect is required".to_owned(),
            ));
        }
    };
    let peer = stream
        .peer_addr()
        .map_or_else(|_| "?".to_owned(), |a| a.to_string());
    eprintln!("connected to {peer}");
    if created {
        eprintln!(
            "{} does not exist; starting from an empty document",
            args.file.display()
        );
    }
    let setup = net("configuring the connection".to_owned());
    stream
        .set_read_timeout(Some(args.timeout))
        .and_then(|()| stream.set_write_timeout(Some(args.timeout)))
        .and_then(|()| stream.set_nodelay(true))
        .map_err(setup)?;
    let stats = sync::run_session(
        &mut stream,
        role,
        &mut doc,
        &mut state,
        args.max_frame,
        |s| {
            eprintln!(
                "turn {}: sent {} bytes, received {} bytes so far",
                s.turns, s.bytes_sent, s.bytes_received
            );
        },
    )?;
    files::write_atomic(&args.file, &doc.save())?;
    if let Some(path) = &args.state {
        files::write_atomic(path, &state.encode())?;
    }
    eprintln!(
        "in sync after {} turn(s): sent {} bytes in {} message(s), received {} bytes in {} message(s); {} change(s), heads {}",
        stats.turns,
        stats.bytes_sent,
        stats.messages_sent,
        stats.bytes_received,
        stats.messages_received,
        doc.change_count(),
        join_hashes(&doc.heads())
    );
    Ok(())
}

fn accept_within(listener: &TcpListener, timeout: Duration) -> Result<TcpStream, CliError> {
    let net = |source| CliError::Net {
        context: "waiting for a peer".to_owned(),
        source,
    };
    listener.set_nonblocking(true).map_err(net)?;
    let deadline = Instant::now() + timeout;
    loop {
        match listener.accept() {
            Ok((stream, _)) => {
                stream.set_nonblocking(false).map_err(net)?;
                return Ok(stream);
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                if Instant::now() >= deadline {
                    return Err(CliError::Other(format!(
                        "no peer connected within {} s",
                        timeout.as_secs()
                    )));
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(e) => return Err(net(e)),
        }
    }
}

fn connect_within(addr: &str, timeout: Duration) -> Result<TcpStream, CliError> {
    let deadline = Instant::now() + timeout;
    loop {
        match TcpStream::connect(addr) {
            Ok(s) => return Ok(s),
            Err(e)
                if Instant::now() < deadline
                    && e.kind() == std::io::ErrorKind::ConnectionRefused =>
            {
                std::thread::sleep(Duration::from_millis(50));
            }
            Err(source) => {
                return Err(CliError::Net {
                    context: format!("connecting to {addr}"),
                    source,
                });
            }
        }
    }
}
