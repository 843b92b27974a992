use super::*;

fn labels() -> Vec<String> {
    vec!["cat".into(), "dog".into()]
}

const EXAMPLE: &str = r#"
[panel]
kind = "gpio"
debounce_ms = 30
status_led = 25
active_low_buttons = true
active_low_leds = false
[[panel.button]]
pin = 17
action = "cat"
[[panel.button]]
pin = 27
action = "dog"
[[panel.button]]
pin = 22
action = "train"
[[panel.led]]
pin = 23
label = "cat"
[[panel.led]]
pin = 24
label = "dog"
"#;

#[derive(Deserialize)]
struct Root {
    panel: PanelConfig,
}

#[test]
fn example_toml_parses_and_resolves() {
    let root: Root = toml::from_str(EXAMPLE).unwrap();
    let PanelConfig::Gpio(cfg) = root.panel else { panic!("not gpio") };
    assert_eq!(cfg.debounce_ms, 30);
    assert_eq!(cfg.poll_ms, 5);
    assert_eq!(cfg.effective_pull(), Pull::Up);
    assert_eq!(cfg.buttons.len(), 3);
    let r = cfg.resolve(&labels()).unwrap();
    assert_eq!(r.buttons, vec![(17, Control::Label(0)), (27, Control::Label(1)), (22, Control::Train)]);
    assert_eq!(r.label_leds, vec![Some(23), Some(24)]);
    assert_eq!(r.status_led, Some(25));
}

#[test]
fn other_kinds_parse() {
    let root: Root = toml::from_str("[panel]\nkind = \"simulated\"\n").unwrap();
    assert_eq!(root.panel, PanelConfig::Simulated);
    let root: Root = toml::from_str("[panel]\nkind = \"keyboard\"\nclear_key = true").unwrap();
    assert_eq!(root.panel, PanelConfig::Keyboard(KeyboardConfig { undo_key: true }));
    let root: Root = toml::from_str("[panel]\nkind = \"keyboard\"\n").unwrap();
    assert_eq!(root.panel, PanelConfig::default());
}

#[test]
fn typos_are_rejected() {
    let bad = EXAMPLE.replace("debounce_ms", "debounce");
    let err = toml::from_str::<Root>(&bad).err().unwrap().to_string();
    assert!(err.contains("debounce"), "{err}");
    let bad = EXAMPLE.replace("pin = 17", "pn = 17");
    assert!(toml::from_str::<Root>(&bad).is_err());
    // In TOML, keys after `[[panel.led]]` belong to that LED: a panel
    // setting placed there is reported rather than silently ignored.
    let misplaced = format!("{EXAMPLE}status_led = 26\n");
    let err = toml::from_str::<Root>(&misplaced).err().unwrap().to_string();
    assert!(err.contains("status_led"), "{err}");
}

#[test]
fn actions_resolve_or_name_the_unknown() {
    let l = labels();
    assert_eq!(resolve_action("dog", &l).unwrap(), Control::Label(1));
    assert_eq!(resolve_action("quit", &l).unwrap(), Control::Quit);
    assert_eq!(resolve_action("undo", &l).unwrap(), Control::Undo);
    assert_eq!(resolve_action("clear", &l).unwrap(), Control::Undo, "the old spelling still works");
    let msg = resolve_action("cta", &l).unwrap_err().to_string();
    assert!(msg.contains("\"cta\"") && msg.contains("cat, dog"), "{msg}");
    let l2 = vec!["train".to_string()];
    assert!(matches!(resolve_action("train", &l2), Err(PanelError::AmbiguousAction(_))));
    let msg = resolve_label("bird", &l).unwrap_err().to_string();
    assert!(msg.contains("\"bird\""), "{msg}");
}

#[test]
fn resolve_rejects_duplicates_and_unknown_labels() {
    let root: Root = toml::from_str(EXAMPLE).unwrap();
    let PanelConfig::Gpio(cfg) = root.panel else { panic!() };
    let mut c = cfg.clone();
    c.status_led = Some(17);
    assert!(matches!(c.resolve(&labels()), Err(PanelError::DuplicatePin(17))));
    let mut c = cfg.clone();
    c.leds[1].label = "cat".into();
    assert!(matches!(c.resolve(&labels()), Err(PanelError::DuplicateLed(_))));
    let err = cfg.resolve(&["cat".to_string()]).unwrap_err().to_string();
    assert!(err.contains("\"dog\""), "{err}");
    // A label without an LED is allowed.
    let mut c = cfg.clone();
    c.leds.pop();
    assert_eq!(c.resolve(&labels()).unwrap().label_leds, vec![Some(23), None]);
}
