//! `teachcam export-dataset` and `teachcam import EXPORT`: the examples go out as image files
//! with a manifest (folder or tar) and come back with the same labels, counts and bytes; a
//! damaged export is refused, naming the file, and changes nothing.

mod common;
use common::*;
use std::collections::BTreeMap;
use std::path::Path;
use teachcam::store::Store;

/// Label → sorted image bytes of a data folder.
fn contents(data: &Path) -> BTreeMap<String, Vec<Vec<u8>>> {
    let store = Store::open_read_only(data).unwrap();
    let mut out: BTreeMap<String, Vec<Vec<u8>>> = BTreeMap::new();
    for e in store.entries() {
        out.entry(e.label.clone()).or_default().push(store.image(&e.id).unwrap());
    }
    out.values_mut().for_each(|v| v.sort());
    out
}

/// A data folder with 3 warm and 2 cool examples.
fn source(tmp: &Path) -> std::path::PathBuf {
    let (imgs, data) = (tmp.join("imgs"), tmp.join("data"));
    synthetic_set(&imgs, 3, 5, (120, 90));
    std::fs::remove_file(imgs.join("cool/cool02.jpg")).unwrap();
    for label in ["warm", "cool"] {
        ok(&["--data", data.to_str().unwrap(), "import", "--label", label, imgs.join(label).to_str().unwrap()]);
    }
    data
}

#[test]
fn dataset_export_round_trips_as_a_folder_and_as_a_tar_file() {
    if emulated("dataset_export_round_trips_as_a_folder_and_as_a_tar_file") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let data = source(tmp.path());
    let original = contents(&data);
    assert_eq!(original.values().map(Vec::len).collect::<Vec<_>>(), [2, 3]);
    for out in ["export", "export.tar"] {
        let out = tmp.path().join(out);
        let printed = ok(&["--data", data.to_str().unwrap(), "export-dataset", "--out", out.to_str().unwrap()]);
        assert!(printed.contains("wrote 5 examples") && printed.contains("warm 3"), "{printed}");
        if out.is_dir() {
            // The stored originals, byte for byte, one folder per label, and the manifest.
            let manifest: serde_json::Value =
                serde_json::from_slice(&std::fs::read(out.join("manifest.json")).unwrap()).unwrap();
            assert_eq!(manifest["format"], "teachcam-dataset");
            assert_eq!(manifest["labels"], serde_json::json!(["cool", "warm"]));
            let files = manifest["files"].as_array().unwrap();
            assert_eq!(files.len(), 5);
            for f in files {
                let bytes = std::fs::read(out.join(f["path"].as_str().unwrap())).unwrap();
                assert!(original[f["label"].as_str().unwrap()].contains(&bytes), "{f}");
                assert!(f["origin"].as_str().unwrap().contains("/imgs/"), "the imported file it came from: {f}");
            }
        }
        let fresh = tmp.path().join(format!("fresh-{}", out.file_name().unwrap().to_string_lossy()));
        let printed = ok(&["--data", fresh.to_str().unwrap(), "import", out.to_str().unwrap()]);
        assert!(printed.contains("warm: added 3, skipped 0"), "{printed}");
        assert_eq!(contents(&fresh), original, "same labels, counts and image bytes");
        // Importing it again adds nothing.
        let printed = ok(&["--data", fresh.to_str().unwrap(), "import", out.to_str().unwrap()]);
        assert!(printed.contains("cool: added 0, skipped 2 already stored"), "{printed}");
        assert_eq!(contents(&fresh), original);
    }
    // An existing non-empty folder is not overwritten.
    let e = fails(&[
        "--data",
        data.to_str().unwrap(),
        "export-dataset",
        "--out",
        tmp.path().join("export").to_str().unwrap(),
    ]);
    assert!(e.contains("already exists and is not empty"), "{e}");
}

#[test]
fn a_damaged_export_is_refused_naming_the_file_and_changes_nothing() {
    if emulated("a_damaged_export_is_refused_naming_the_file_and_changes_nothing") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let data = source(tmp.path());
    let (dir, tar) = (tmp.path().join("export"), tmp.path().join("export.tar"));
    for out in [&dir, &tar] {
        ok(&["--data", data.to_str().unwrap(), "export-dataset", "--out", out.to_str().unwrap()]);
    }
    // The target already holds one other example, which must stay as it is.
    let target = tmp.path().join("target");
    let other = tmp.path().join("other");
    synthetic_set(&other, 1, 77, (100, 80));
    ok(&["--data", target.to_str().unwrap(), "import", "--label", "warm", other.join("warm").to_str().unwrap()]);
    let before = contents(&target);
    let refused = |export: &Path, needle: &str| {
        let e = fails(&["--data", target.to_str().unwrap(), "import", export.to_str().unwrap()]);
        assert!(e.contains(needle) && e.contains("nothing was imported"), "{needle}: {e}");
        assert_eq!(contents(&target), before, "the data folder is unchanged");
    };

    // A damaged image in a folder export.
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).unwrap()).unwrap();
    let victim = manifest["files"][3]["path"].as_str().unwrap().to_string();
    let good = std::fs::read(dir.join(&victim)).unwrap();
    let mut bad = good.clone();
    let mid = bad.len() / 2;
    bad[mid] ^= 0x40;
    std::fs::write(dir.join(&victim), &bad).unwrap();
    refused(&dir, &format!("{victim} is damaged"));
    std::fs::write(dir.join(&victim), &good).unwrap();

    // A manifest that is not JSON, one that lists a missing file, and a file it does not list.
    let text = std::fs::read_to_string(dir.join("manifest.json")).unwrap();
    std::fs::write(dir.join("manifest.json"), &text[..text.len() / 2]).unwrap();
    refused(&dir, "manifest.json is not a valid manifest");
    let missing = format!("{}/missing.jpg", manifest["files"][3]["label"].as_str().unwrap());
    std::fs::write(dir.join("manifest.json"), text.replace(&victim, &missing)).unwrap();
    refused(&dir, &format!("{missing} is listed in the manifest but missing"));
    std::fs::write(dir.join("manifest.json"), &text).unwrap();
    std::fs::write(dir.join("cool/extra.jpg"), &good).unwrap();
    refused(&dir, "cool/extra.jpg is not in the manifest");
    std::fs::remove_file(dir.join("cool/extra.jpg")).unwrap();

    // A tar export with one image changed.
    let mut archive = tar::Archive::new(std::fs::File::open(&tar).unwrap());
    let mut builder = tar::Builder::new(Vec::new());
    for entry in archive.entries().unwrap() {
        let mut entry = entry.unwrap();
        let path = entry.path().unwrap().to_string_lossy().to_string();
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut entry, &mut bytes).unwrap();
        if path == victim {
            bytes[10] ^= 1;
        }
        let mut header = entry.header().clone();
        builder.append_data(&mut header, &path, bytes.as_slice()).unwrap();
    }
    let damaged = tmp.path().join("damaged.tar");
    std::fs::write(&damaged, builder.into_inner().unwrap()).unwrap();
    refused(&damaged, &format!("{victim} is damaged"));
    // Not a tar file at all.
    std::fs::write(&damaged, b"not a tar file").unwrap();
    let e = fails(&["--data", target.to_str().unwrap(), "import", damaged.to_str().unwrap()]);
    assert!(e.contains("damaged.tar"), "{e}");
    assert_eq!(contents(&target), before);

    // The intact exports still import.
    for export in [&dir, &tar] {
        ok(&["--data", target.to_str().unwrap(), "import", export.to_str().unwrap()]);
    }
    assert_eq!(contents(&target)["cool"].len(), 2);
}
