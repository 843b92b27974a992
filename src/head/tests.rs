use super::*;

fn head() -> Head {
    Head {
        version: VERSION,
        labels: vec!["cat".into(), "dog".into()],
        model_sha256: "aa".into(),
        preprocess: Some("p1".into()),
        dims: 2,
        features: Features { centre: vec![0.0, 0.0], scale: 1.0 },
        weights: vec![vec![5.0, 0.0], vec![0.0, 5.0]],
        bias: vec![0.0, 0.0],
        thresholds: vec![0.9, 0.6],
        trained_at: 0,
        report: TrainReport::default(),
        open_set: None,
    }
}

#[test]
fn predicts_with_threshold() {
    let h = head();
    let p = h.predict(&[3.0, 0.1]);
    assert_eq!(p.index, 0);
    assert!(!p.unsure && p.confidence > 0.9);
    let p = h.predict(&[1.0, 0.8]); // cat wins, but not above 0.9
    assert_eq!(p.index, 0);
    assert!(p.unsure);
    assert!((p.probs.iter().sum::<f32>() - 1.0).abs() < 1e-5);
}

#[test]
fn aligned_follows_the_config_order_and_never_predicts_an_untaught_label() {
    let h = head().aligned(&["dog".into(), "none".into(), "cat".into()]);
    assert_eq!(h.labels, ["dog", "none", "cat"]);
    assert_eq!(h.thresholds, [0.6, 1.0, 0.9]);
    let p = h.predict(&[3.0, 0.1]);
    assert_eq!((p.index, p.probs[1]), (2, 0.0), "cat, and the untaught none has probability 0");
    assert_eq!(head().predict(&[3.0, 0.1]).probs[0], p.probs[2], "same probability as before the reorder");
    // A head label missing from the list keeps its class, after the listed ones.
    let h = head().aligned(&["dog".into()]);
    assert_eq!(h.labels, ["dog", "cat"]);
    assert_eq!(head().aligned(&["cat".into(), "dog".into()]), head(), "already in order");
}

#[test]
fn save_load_round_trip_and_model_check() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("head.json");
    head().save(&p).unwrap();
    let model = |sha: &str, dims| ModelInfo {
        path: "m.onnx".into(),
        sha256: sha.into(),
        dims,
        classes: None,
        preprocess: "p1".into(),
    };
    assert_eq!(Head::load(&p, &model("aa", 2)).unwrap(), head());
    let other = ModelInfo { preprocess: "p2".into(), ..model("aa", 2) };
    assert!(matches!(Head::load(&p, &other), Err(HeadError::WrongPreprocess { .. })));
    let old = Head { preprocess: None, ..head() };
    old.save(&p).unwrap();
    assert_eq!(Head::load(&p, &other).unwrap(), old, "a head from before the key was recorded is kept");
    head().save(&p).unwrap();
    let e = Head::load(&p, &model("bb", 2)).unwrap_err();
    assert!(matches!(e, HeadError::WrongModel { .. }), "{e}");
    assert!(matches!(Head::load(&p, &model("aa", 3)), Err(HeadError::Damaged { .. })));
    assert!(matches!(Head::load(&dir.path().join("none.json"), &model("aa", 2)), Err(HeadError::Missing(_))));
    std::fs::write(&p, b"{\"labels\": [").unwrap();
    let e = Head::load(&p, &model("aa", 2)).unwrap_err();
    assert!(e.to_string().contains("head.json"), "{e}");
}

/// A power cut at every file operation of saving a new head over an old one: after the
/// reboot the head is the old one or the new one, never damaged or missing.
#[test]
fn a_power_cut_while_saving_leaves_the_old_or_the_new_head() {
    use crate::fsutil::sim::SimFs;
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("head.json");
    let new = Head { trained_at: 99, ..head() };
    let ops = {
        head().save(&p).unwrap();
        let fs = SimFs::new(dir.path(), None, |_| false);
        new.save_with(&fs, &p).unwrap();
        fs.ops()
    };
    for k in 1..=ops + 1 {
        head().save(&p).unwrap();
        let fs = SimFs::new(dir.path(), Some(k), |_| false);
        let saved = new.save_with(&fs, &p).is_ok();
        fs.crash();
        let after = Head::read(&p).unwrap_or_else(|e| panic!("crash point {k}: {e}"));
        if saved {
            assert_eq!(after, new, "crash point {k}: acknowledged, so the new head");
        } else {
            assert!(after == head() || after == new, "crash point {k}");
        }
    }
}
