//! Fixing what was taught, and honest numbers, through the binary on synthetic images:
//! `examples list|remove|relabel|reset`, `import --relabel|--json`, `status [--json]` and the
//! training report's warnings and interval.

mod common;
use common::*;
use serde_json::Value;
use std::path::Path;

fn json(args: &[&str]) -> Value {
    let out = ok(args);
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("teachcam {args:?} printed no JSON ({e}):\n{out}"))
}

fn ids(data: &str, label: &str) -> Vec<String> {
    let list = json(&["--data", data, "examples", "list", "--json", "--label", label]);
    list.as_array().unwrap().iter().map(|e| e["id"].as_str().unwrap().to_string()).collect()
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn examples_can_be_listed_relabelled_removed_and_reset() {
    if emulated("examples_can_be_listed_relabelled_removed_and_reset") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let (imgs, data) = (tmp.path().join("imgs"), tmp.path().join("data"));
    synthetic_set(&imgs, 6, 7, (96, 72));
    let d = s(&data);
    ok(&["--data", d, "import", "--label", "warm", s(&imgs.join("warm"))]);
    ok(&["--data", d, "import", "--label", "cool", s(&imgs.join("cool"))]);

    // A photo already stored under another label: said so, with the way to relabel it.
    let wrong = imgs.join("warm/warm00.jpg");
    let out = ok(&["--data", d, "import", "--label", "cool", s(&wrong)]);
    assert!(out.contains("already stored as warm") && out.contains("--relabel"), "{out}");
    assert_eq!(ids(d, "cool").len(), 6, "nothing changed without --relabel");
    let j = json(&["--data", d, "import", "--json", "--label", "cool", "--relabel", s(&wrong)]);
    assert_eq!(j["labels"]["cool"]["relabelled"], 1, "{j}");
    assert_eq!(j["labels"]["cool"]["stored"], 7, "{j}");
    assert_eq!(j["other_label"][0]["label"], "warm", "{j}");
    assert_eq!((ids(d, "warm").len(), ids(d, "cool").len()), (5, 7));

    // Relabel back, remove two; an unknown id changes nothing.
    ok(&["--data", d, "train"]);
    let cool = ids(d, "cool");
    let out = ok(&["--data", d, "examples", "relabel", &cool[0], "--to", "warm"]);
    assert!(out.contains("relabelled 1 example as warm") && out.contains("train again"), "{out}");
    let status = ok(&["--data", d, "status"]);
    assert!(status.contains("the examples changed since"), "a relabel makes the head out of date:\n{status}");
    let e = fails(&["--data", d, "examples", "remove", &cool[1], "no-such-id"]);
    assert!(e.contains("no-such-id") && e.contains("nothing was changed"), "{e}");
    assert_eq!(ids(d, "cool").len(), 6);
    let out = ok(&["--data", d, "examples", "remove", &cool[1], &cool[2]]);
    assert!(out.contains("removed 2 examples") && out.contains("now 10 examples: cool 4, warm 6"), "{out}");
    let list = ok(&["--data", d, "examples", "list"]);
    assert!(list.lines().last().unwrap() == "10 examples" && !list.contains(&cool[1]), "{list}");

    // Reset: refused without --yes when not on a terminal, then everything goes.
    let e = fails(&["--data", d, "examples", "reset"]);
    assert!(e.contains("--yes"), "{e}");
    assert_eq!(ids(d, "warm").len(), 6);
    let out = ok(&["--data", d, "examples", "reset", "--yes"]);
    assert!(out.contains("removed 10 examples and the trained head"), "{out}");
    let st = json(&["--data", d, "status", "--json"]);
    assert_eq!((st["examples"].as_u64(), st["head"]["state"].as_str()), (Some(0), Some("missing")), "{st}");
}

#[test]
fn status_shows_real_counts_and_warns_about_imbalance_and_labels() {
    if emulated("status_shows_real_counts_and_warns_about_imbalance_and_labels") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let (imgs, data, few) = (tmp.path().join("imgs"), tmp.path().join("data"), tmp.path().join("few"));
    synthetic_set(&imgs, 30, 8, (64, 48));
    synthetic_set(&few, 1, 9, (64, 48));
    let d = s(&data);

    // A missing data folder: said so, nothing created.
    let e = fails(&["--data", d, "status"]);
    assert!(e.contains("no teachcam data"), "{e}");
    assert!(!data.exists(), "status created the data folder");

    ok(&["--data", d, "import", "--label", "warm", s(&few.join("warm"))]);
    let out = ok(&["--data", d, "status"]);
    assert!(out.contains(": 1 example, 1 label"), "{out}");
    assert!(out.contains("needs examples of at least 2 labels, 1 so far"), "{out}");

    let out = ok(&["--data", d, "import", "--label", "warm", s(&imgs.join("warm"))]);
    assert!(out.contains("added 30"), "{out}");
    let out = ok(&["--data", d, "import", "--label", "cool", s(&few.join("cool"))]);
    assert!(out.contains("warning: labels are imbalanced") && out.contains("cool needs 30 more"), "{out}");
    let j = json(&["--data", d, "import", "--json", "--label", "cool", s(&imgs.join("cool"))]);
    assert_eq!(j["labels"]["cool"]["added"], 30, "{j}");
    assert_eq!(j["warnings"].as_array().unwrap().len(), 0, "31 vs 31 is balanced: {j}");

    let cool = ids(d, "cool");
    let mut remove = vec!["--data", d, "examples", "remove"];
    remove.extend(cool[..20].iter().map(String::as_str));
    assert!(ok(&remove).contains("removed 20 examples"));

    // 31 warm, 11 cool: bars to scale, the imbalance and the labels unlike the config's
    // (the built-in config's are cat and dog).
    let out = ok(&["--data", d, "status"]);
    let bar = |label: &str| {
        let line = out.lines().find(|l| l.trim_start().starts_with(label)).unwrap();
        line.chars().filter(|c| *c == '█').count()
    };
    assert_eq!((bar("warm"), bar("cool")), (20, 8), "{out}");
    assert!(out.contains("a full bar is 31 examples"), "{out}");
    assert!(
        out.contains("warning: labels are imbalanced (warm has 31 examples, 2.8× the smallest): cool needs 20 more"),
        "{out}"
    );
    assert!(
        out.contains("warning: the data's labels differ from the config's (cat, dog): warm, cool")
            || out.contains("cool, warm have no button"),
        "{out}"
    );
    assert!(out.contains("head: not trained yet: press TRAIN or run `teachcam train`"), "{out}");
    let st = json(&["--data", d, "status", "--json"]);
    let warm = st["labels"].as_array().unwrap().iter().find(|l| l["label"] == "warm").unwrap().clone();
    assert_eq!((warm["examples"].as_u64(), warm["in_config"].as_bool()), (Some(31), Some(false)), "{st}");
    assert_eq!(st["warnings"].as_array().unwrap().len(), 2, "{st}");

    // Training says the same, and puts an interval on the small held-out figure.
    let out = ok(&["--data", d, "train"]);
    assert!(
        out.starts_with("warning: the data's labels differ") && out.contains("warning: labels are imbalanced"),
        "{out}"
    );
    assert!(out.contains("on 8 images (95 % CI ") && out.contains("would narrow it to ±5 points"), "{out}");
    assert!(out.contains("  support: ") && out.contains("  threshold: "), "{out}");
    let j = json(&["--data", d, "train", "--json"]);
    let w = j["warnings"].as_array().unwrap();
    assert!(w.len() >= 2 && w[1].as_str().unwrap().starts_with("labels are imbalanced"), "{j}");
    assert_eq!(j["counts"], serde_json::json!([11, 31]), "{j}");
}

#[test]
fn a_failed_import_into_a_new_folder_leaves_nothing_behind() {
    if emulated("a_failed_import_into_a_new_folder_leaves_nothing_behind") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let (bad, data) = (tmp.path().join("bad.jpg"), tmp.path().join("new/data"));
    std::fs::write(&bad, b"not an image").unwrap();
    let e = fails(&["--data", s(&data), "import", "--label", "cat", s(&bad)]);
    assert!(e.contains("nothing was imported"), "{e}");
    assert!(!data.exists(), "an empty data folder was left behind");
    // An existing folder is left as it was.
    std::fs::create_dir_all(&data).unwrap();
    fails(&["--data", s(&data), "import", "--label", "cat", s(&bad)]);
    assert!(data.is_dir());
}
