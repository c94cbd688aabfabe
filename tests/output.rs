//! Never clobber (issue 13): every file and folder peerscope writes, through the binary.
//! Snapshot folders (`gen --out` here; `snapshot --out` against the emulator in `collect`) are
//! written only into new, empty or peerscope-written folders and keep the user's files beside
//! them; an interrupted run leaves nothing under `--out` and its staging folder is removed by the
//! next run; a folder left midway is an error for `check`. File outputs (`audit
//! --write-baseline`, `graph --out`, `gen --queries`) refuse FIFOs, devices, sockets, folders and
//! symlinks to them, keep an existing file's mode, give a new file the umask's mode (not
//! tempfile's 0600), follow a symlink to a regular file, and take `-` as standard output or
//! refuse it, never writing a file named `-`.

use std::ffi::OsString;
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::util::{Dir, TestCommand, copy_tree};

const HUB: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/topologies/hub-and-spoke");

fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o7777
}

fn mkfifo(p: &Path) {
    let c = std::ffi::CString::new(p.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0, "mkfifo");
}

fn is_fifo(p: &Path) -> bool {
    std::fs::symlink_metadata(p).unwrap().file_type().is_fifo()
}

fn gen_s(out: &Path, seed: &str) -> crate::util::Output {
    TestCommand::new(["gen", "--tier", "s", "--seed", seed, "--out"])
        .arg(out)
        .run()
}

fn manifest(dir: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("manifest.json")).unwrap()).unwrap()
}

/// The user's files that the docs advise keeping in the snapshot folder.
fn add_user_files(dir: &Path) {
    std::fs::write(dir.join("intent.toml"), "# mine\n").unwrap();
    std::fs::write(dir.join("README.md"), "mine\n").unwrap();
    std::fs::write(dir.join("baseline.json"), "{\"fingerprints\": []}\n").unwrap();
    std::fs::create_dir_all(dir.join("changes")).unwrap();
    std::fs::write(dir.join("changes/open-ssh.json"), "[]\n").unwrap();
}

fn user_files_are_intact(dir: &Path) {
    assert_eq!(
        std::fs::read_to_string(dir.join("intent.toml")).unwrap(),
        "# mine\n"
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("README.md")).unwrap(),
        "mine\n"
    );
    assert!(dir.join("baseline.json").is_file());
    assert_eq!(
        std::fs::read_to_string(dir.join("changes/open-ssh.json")).unwrap(),
        "[]\n"
    );
}

/// Account folders only (what gen writes besides the manifest).
fn accounts(dir: &Path) -> Vec<String> {
    names(dir)
        .into_iter()
        .filter(|n| n.bytes().all(|b| b.is_ascii_digit()))
        .collect()
}

#[test]
fn gen_into_its_own_folder_replaces_its_accounts_and_keeps_the_users_files() {
    let dir = Dir::new();
    let out = dir.path().join("org");
    let run = gen_s(&out, "1");
    assert_eq!(run.code, 0, "{}", run.stderr);
    let m = manifest(&out);
    assert_eq!(m["generator"], "peerscope");
    assert_eq!(m["command"], "gen");
    assert_eq!(m["complete"], true);
    assert_eq!(m["generated"]["seed"], 1);
    let first = accounts(&out);
    assert_eq!(m["written"].as_array().unwrap().len(), first.len());
    assert!(!first.is_empty());
    add_user_files(&out);
    // A stale account folder of the first run must not survive into the second.
    let probe = out.join(&first[0]).join("probe.json");
    std::fs::write(&probe, "{}").unwrap();

    let run = gen_s(&out, "2");
    assert_eq!(run.code, 0, "{}", run.stderr);
    user_files_are_intact(&out);
    assert!(!probe.exists(), "the old account folder was replaced whole");
    assert_eq!(manifest(&out)["generated"]["seed"], 2);
    assert_eq!(
        names(dir.path()),
        ["org"],
        "no staging folder left beside it"
    );
    let hidden: Vec<String> = names(&out)
        .into_iter()
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(
        hidden.is_empty(),
        "no staging folder left inside: {hidden:?}"
    );
    // The same bytes as a fresh run of seed 2.
    let fresh = dir.path().join("fresh");
    assert_eq!(gen_s(&fresh, "2").code, 0);
    for a in accounts(&fresh) {
        let rel = Path::new(&a).join("us-east-1/describe-vpcs.json");
        if fresh.join(&rel).exists() {
            assert_eq!(
                std::fs::read(fresh.join(&rel)).unwrap(),
                std::fs::read(out.join(&rel)).unwrap()
            );
        }
    }
    assert_eq!(accounts(&fresh), accounts(&out));
}

#[test]
fn gen_refuses_a_folder_peerscope_did_not_write() {
    let dir = Dir::new();
    add_user_files(dir.path());
    let before = names(dir.path());
    let run = gen_s(dir.path(), "1");
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains(&format!(
            "{}: not writing into this folder: it holds files and no manifest.json",
            dir.path().display()
        )),
        "{}",
        run.stderr
    );
    // Another tool's manifest.json is not peerscope's.
    std::fs::write(dir.path().join("manifest.json"), "{\"name\": \"app\"}").unwrap();
    let run = gen_s(dir.path(), "1");
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("not written by peerscope"),
        "{}",
        run.stderr
    );
    user_files_are_intact(dir.path());
    let mut expected = before;
    expected.push("manifest.json".into());
    expected.sort();
    assert_eq!(names(dir.path()), expected);
    // A file, and `-`.
    let run = gen_s(&dir.path().join("README.md"), "1");
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("not a folder"), "{}", run.stderr);
    let run = gen_s(Path::new("-"), "1");
    assert_eq!(run.code, 2, "{}", run.stderr);
}

/// A topology folder has no manifest: peerscope did not write it, so neither `gen` nor
/// `snapshot` may write into it (its README and intent stay as they are).
#[test]
fn gen_refuses_a_hand_made_snapshot() {
    let dir = Dir::new();
    copy_tree(Path::new(HUB), dir.path());
    let before = names(dir.path());
    let run = gen_s(dir.path(), "1");
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert_eq!(names(dir.path()), before);
}

/// An account folder the user put in a folder of peerscope's, under a name the run writes, is
/// in the way: refused at the end, with nothing changed.
#[test]
fn gen_refuses_to_replace_an_account_folder_its_manifest_does_not_list() {
    let dir = Dir::new();
    let out = dir.path().join("org");
    assert_eq!(gen_s(&out, "1").code, 0);
    let first = accounts(&out);
    // The user's own dump under an account id the next run writes, not listed as written.
    let mut m = manifest(&out);
    m["written"] = Value::Array(vec![]);
    std::fs::write(out.join("manifest.json"), m.to_string()).unwrap();
    let run = gen_s(&out, "1");
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains(&format!("{} is in the way", first[0])),
        "{}",
        run.stderr
    );
    assert_eq!(manifest(&out), m, "nothing changed");
}

/// `gen` killed midway leaves nothing under `--out`, only its hidden staging folder, which the
/// next run removes.
#[test]
fn a_killed_gen_leaves_no_output_and_the_next_run_removes_its_staging_folder() {
    let dir = Dir::new();
    let out = dir.path().join("org");
    // The L tier takes long enough to be killed while it writes.
    let mut child = Command::new(env!("CARGO_BIN_EXE_peerscope"))
        .args(["gen", "--tier", "l", "--out"])
        .arg(&out)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let staging = wait_for_staging(dir.path(), ".org.peerscope-partial-");
    // Let it write something first.
    let deadline = Instant::now() + Duration::from_secs(60);
    let written =
        || std::fs::read_dir(staging.join("snapshot")).is_ok_and(|mut d| d.next().is_some());
    while !written() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(!out.exists(), "nothing under --out");
    assert!(staging.join(".peerscope-staging").is_file());

    let run = gen_s(&out, "1");
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(names(dir.path()), ["org"], "the dead run's staging is gone");
}

/// Waits until a staging folder whose name starts with `prefix` appears in `dir`.
pub fn wait_for_staging(dir: &Path, prefix: &str) -> PathBuf {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(n) = names(dir).into_iter().find(|n| n.starts_with(prefix)) {
            return dir.join(n);
        }
        assert!(Instant::now() < deadline, "no staging folder in {dir:?}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// A folder whose manifest says its run stopped midway is an error for `check` (exit 1, exit 2
/// with `--strict`), damage the analyses refuse (exit 2; marked and exit 4 with
/// `--allow-damaged`), and the next run replaces it.
#[test]
fn a_folder_left_midway_is_an_error_until_the_next_run() {
    let dir = Dir::new();
    let out = dir.path().join("org");
    assert_eq!(gen_s(&out, "1").code, 0);
    let mut m = manifest(&out);
    m["complete"] = Value::Bool(false);
    std::fs::write(out.join("manifest.json"), m.to_string()).unwrap();
    let check = TestCommand::check(&out, &["--format", "json"]).run();
    assert_eq!(check.code, 1, "{}", check.stderr);
    let inv: Value = serde_json::from_str(&check.stdout).unwrap();
    let hits: Vec<&Value> = inv["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["code"] == "partial-snapshot" && d["severity"] == "error")
        .collect();
    assert_eq!(hits.len(), 1, "{:#}", inv["diagnostics"]);
    assert!(
        hits[0]["message"]
            .as_str()
            .unwrap()
            .contains("peerscope gen run that wrote this folder did not finish"),
        "{}",
        hits[0]
    );
    assert_eq!(TestCommand::check(&out, &["--strict"]).run().code, 2);
    let reach = TestCommand::new(["reach"]).arg(&out).run();
    assert_eq!(reach.code, 2, "{}", reach.stderr);
    assert!(reach.stderr.contains("damaged"), "{}", reach.stderr);
    let reach = TestCommand::new(["reach", "--allow-damaged"])
        .arg(&out)
        .run();
    assert_eq!(reach.code, 4, "{}", reach.stderr);
    assert_eq!(gen_s(&out, "1").code, 0);
    assert_eq!(TestCommand::check(&out, &[]).run().code, 0);
}

// ---------------------------------------------------------------------------------------------
// File outputs
// ---------------------------------------------------------------------------------------------

/// The three file outputs, each writing to `target` (`gen` writes its organisation under
/// `scratch`): a name and the arguments.
fn writers(target: &Path, scratch: &Path) -> Vec<(&'static str, Vec<OsString>)> {
    let args = |a: &[&str]| -> Vec<OsString> { a.iter().map(OsString::from).collect() };
    let mut audit = args(&["audit", HUB, "--write-baseline"]);
    audit.push(target.into());
    let mut graph = args(&["graph", HUB, "--format", "dot", "--out"]);
    graph.push(target.into());
    let mut r#gen = args(&["gen", "--tier", "s", "--query-count", "10", "--out"]);
    r#gen.push(scratch.join("org").into());
    r#gen.push("--queries".into());
    r#gen.push(target.into());
    vec![
        ("audit --write-baseline", audit),
        ("graph --out", graph),
        ("gen --queries", r#gen),
    ]
}

/// Runs peerscope with `args` under `umask`; returns the exit code and standard error.
fn run_with_umask(args: &[OsString], umask: &str) -> (i32, String) {
    let out = Command::new("sh")
        .arg("-c")
        .arg(format!("umask {umask}; exec \"$0\" \"$@\""))
        .arg(env!("CARGO_BIN_EXE_peerscope"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn outputs_refuse_fifos_sockets_folders_and_symlinks_to_them() {
    let dir = Dir::new();
    let fifo = dir.path().join("fifo");
    mkfifo(&fifo);
    let link = dir.path().join("link-to-fifo");
    std::os::unix::fs::symlink(&fifo, &link).unwrap();
    let sock = dir.path().join("sock");
    let _listener = std::os::unix::net::UnixListener::bind(&sock).unwrap();
    let folder = dir.path().join("folder");
    std::fs::create_dir(&folder).unwrap();
    let dangling = dir.path().join("dangling");
    std::os::unix::fs::symlink(dir.path().join("nowhere"), &dangling).unwrap();
    let mut targets = vec![
        (fifo.clone(), "is a named pipe (FIFO), not a regular file"),
        (link.clone(), "is a symlink to a named pipe (FIFO)"),
        (sock.clone(), "is a socket"),
        (folder.clone(), "is a folder"),
        (dangling.clone(), "is a symlink to nothing"),
    ];
    // A device node: as root, a null device made here (a mistake must not replace the real
    // one); otherwise /dev/null, which a mistake could not replace.
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } == 0 {
        let null = dir.path().join("null");
        let c = std::ffi::CString::new(null.as_os_str().as_encoded_bytes()).unwrap();
        // SAFETY: a valid NUL-terminated path; 1:3 is the null device.
        if unsafe { libc::mknod(c.as_ptr(), libc::S_IFCHR | 0o666, libc::makedev(1, 3)) } == 0 {
            targets.push((null, "is a character device"));
        }
    } else {
        targets.push((PathBuf::from("/dev/null"), "is a character device"));
    }
    let scratch = Dir::new();
    for (target, message) in &targets {
        for (what, args) in writers(target, scratch.path()) {
            let (code, stderr) = run_with_umask(&args, "022");
            assert_eq!(code, 2, "{what} {target:?}: {stderr}");
            let expected = format!("{}: {message}", target.display());
            assert!(
                stderr.contains(&expected),
                "{what}: {expected:?} in {stderr}"
            );
        }
    }
    assert!(
        names(scratch.path()).is_empty(),
        "checked before generating"
    );
    assert!(is_fifo(&fifo));
    assert!(std::fs::metadata(&link).unwrap().file_type().is_fifo());
    assert!(std::fs::symlink_metadata(&link).unwrap().is_symlink());
    assert!(
        std::fs::symlink_metadata(&sock)
            .unwrap()
            .file_type()
            .is_socket()
    );
    assert!(names(&folder).is_empty());
    assert!(std::fs::symlink_metadata(&dangling).unwrap().is_symlink());
    let mut left = names(dir.path());
    left.retain(|n| n != "null");
    assert_eq!(
        left,
        ["dangling", "fifo", "folder", "link-to-fifo", "sock"],
        "no temporary file left"
    );
    let null = dir.path().join("null");
    if null.exists() {
        assert!(
            std::fs::symlink_metadata(&null)
                .unwrap()
                .file_type()
                .is_char_device()
        );
    }
}

#[test]
fn outputs_keep_an_existing_files_mode_and_give_new_files_the_umasks() {
    let dir = Dir::new();
    let scratch = Dir::new();
    for i in 0..3 {
        // An existing file, group-readable only: replaced, its mode kept.
        let old = dir.path().join(format!("old-{i}"));
        std::fs::write(&old, "old").unwrap();
        std::fs::set_permissions(&old, std::fs::Permissions::from_mode(0o640)).unwrap();
        let (what, args) = writers(&old, scratch.path()).swap_remove(i);
        let (code, stderr) = run_with_umask(&args, "022");
        assert!(code == 0 || code == 1, "{what}: {stderr}");
        assert_ne!(std::fs::read_to_string(&old).unwrap(), "old", "{what}");
        assert_eq!(mode(&old), 0o640, "{what}");

        // A new file: what the umask allows of 0666, not tempfile's 0600.
        for (umask, expected) in [("027", 0o640), ("002", 0o664)] {
            let new = dir.path().join(format!("new-{i}-{umask}"));
            let (what, args) = writers(&new, scratch.path()).swap_remove(i);
            let (code, stderr) = run_with_umask(&args, umask);
            assert!(code == 0 || code == 1, "{what}: {stderr}");
            assert_eq!(mode(&new), expected, "{what} under umask {umask}");
        }
    }
    assert_eq!(names(dir.path()).len(), 9, "no temporary file left");
}

#[test]
fn outputs_follow_a_symlink_to_a_regular_file_and_keep_the_link() {
    let dir = Dir::new();
    let scratch = Dir::new();
    for i in 0..3 {
        let real = dir.path().join(format!("real-{i}"));
        let link = dir.path().join(format!("link-{i}"));
        std::fs::write(&real, "old").unwrap();
        std::os::unix::fs::symlink(&real, &link).unwrap();
        let (what, args) = writers(&link, scratch.path()).swap_remove(i);
        let (code, stderr) = run_with_umask(&args, "022");
        assert!(code == 0 || code == 1, "{what}: {stderr}");
        assert!(
            std::fs::symlink_metadata(&link).unwrap().is_symlink(),
            "{what}"
        );
        assert_ne!(std::fs::read_to_string(&real).unwrap(), "old", "{what}");
    }
}

/// `-` is standard output for `graph --out`; where standard output carries the report it is
/// refused. Never a file named `-`.
#[test]
fn a_dash_is_standard_output_or_refused_never_a_file() {
    let dir = Dir::new();
    let run = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_peerscope"))
            .args(args)
            .current_dir(dir.path())
            .output()
            .unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, stdout, stderr) = run(&["graph", HUB, "--format", "dot", "--out", "-"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.starts_with("graph peerscope {"), "{stdout}");
    let (code, _, stderr) = run(&["audit", HUB, "--write-baseline", "-"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("-: `-` means standard output, which carries the audit report here"),
        "{stderr}"
    );
    let (code, _, stderr) = run(&["gen", "--tier", "s", "--out", "org", "--queries", "-"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        !dir.path().join("org").exists(),
        "checked before generating"
    );
    assert_eq!(names(dir.path()), Vec::<String>::new(), "no file named -");
}
