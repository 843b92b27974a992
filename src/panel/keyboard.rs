//! Terminal panel: number keys are the label buttons, LEDs are drawn on a
//! status line.
//!
//! Keys: `1`..`9` capture for label 1..9 (each key press is a Press then a
//! Release; the terminal's key repeat while a key is held gives the
//! hold-to-burst behaviour), `t` trains, `c` undoes the last capture (only with
//! `undo_key = true`), `q`, Esc or Ctrl-C quits. The terminal is in raw mode
//! while the panel exists and is restored on drop and on panic.
//!
//! The status line shows the LEDs, what is in view (each label's confidence, from
//! [`Leds::note`]) and the key hint, from the start; it is redrawn at least every
//! [`REDRAW`] so a log line printed over it does not leave it gone.

use std::io::{self, IsTerminal, Write};
use std::sync::{Arc, Once};
use std::time::{Duration, Instant};

use crossterm::cursor::MoveToColumn;
use crossterm::event::{self, Event, KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use crossterm::style::Print;
use crossterm::terminal::{self, Clear, ClearType};
use crossterm::{execute, queue};
use log::warn;

use super::{check_led_count, ButtonEvent, Buttons, Control, KeyboardConfig, LedState, Leds, PanelError};

/// Most labels that get a number key.
pub const MAX_KEYED_LABELS: usize = 9;

/// The status line is redrawn at least this often (a log line printed over it clears it).
const REDRAW: Duration = Duration::from_millis(500);
/// A changed note is drawn at most this often (confidences change on every frame).
const NOTE_EVERY: Duration = Duration::from_millis(200);

/// Raw mode, switched off again when the last holder drops it.
struct RawMode;

impl RawMode {
    fn enable() -> Result<Arc<Self>, PanelError> {
        static HOOK: Once = Once::new();
        HOOK.call_once(|| {
            let previous = std::panic::take_hook();
            std::panic::set_hook(Box::new(move |info| {
                let _ = terminal::disable_raw_mode();
                previous(info);
            }));
        });
        terminal::enable_raw_mode()?;
        Ok(Arc::new(RawMode))
    }
}

impl Drop for RawMode {
    fn drop(&mut self) {
        let _ = terminal::disable_raw_mode();
    }
}

/// Opens the keyboard panel; errors when stdin is not a terminal.
pub fn open(cfg: &KeyboardConfig, labels: &[String]) -> Result<(KeyboardButtons, KeyboardLeds), PanelError> {
    if !io::stdin().is_terminal() {
        return Err(PanelError::NotATerminal);
    }
    if labels.len() > MAX_KEYED_LABELS {
        warn!("keyboard panel: only the first {MAX_KEYED_LABELS} of {} labels have a key", labels.len());
    }
    let raw = RawMode::enable()?;
    let buttons = KeyboardButtons { n_labels: labels.len(), undo_key: cfg.undo_key, _raw: Arc::clone(&raw) };
    let mut leds = KeyboardLeds {
        labels: labels.to_vec(),
        hint: key_hint(labels.len(), cfg.undo_key),
        shown: None,
        note: String::new(),
        drawn_at: None,
        _raw: raw,
    };
    leds.set(&LedState::off(labels.len()))?;
    Ok((buttons, leds))
}

/// The control a key stands for, if any.
pub fn map_key(key: &KeyEvent, n_labels: usize, undo_key: bool) -> Option<Control> {
    if key.kind == KeyEventKind::Release {
        return None;
    }
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    match key.code {
        KeyCode::Char('c') | KeyCode::Char('d') if ctrl => Some(Control::Quit),
        _ if ctrl => None,
        KeyCode::Char('q') | KeyCode::Esc => Some(Control::Quit),
        KeyCode::Char('t') => Some(Control::Train),
        KeyCode::Char('c') if undo_key => Some(Control::Undo),
        KeyCode::Char(d @ '1'..='9') => {
            let index = d as usize - '1' as usize;
            (index < n_labels).then_some(Control::Label(index))
        }
        _ => None,
    }
}

/// Renders the status line, e.g. `[1 ● cat] [2 ○ dog] status ○`.
pub fn render_status(labels: &[String], state: &LedState) -> String {
    let dot = |on: bool| if on { '●' } else { '○' };
    let mut line = String::new();
    for (i, (name, &on)) in labels.iter().zip(&state.labels).enumerate() {
        if i < MAX_KEYED_LABELS {
            line.push_str(&format!("[{} {} {name}] ", i + 1, dot(on)));
        } else {
            line.push_str(&format!("[{} {name}] ", dot(on)));
        }
    }
    line.push_str(&format!("status {}", dot(state.status)));
    line
}

fn key_hint(n_labels: usize, undo_key: bool) -> String {
    let last = n_labels.min(MAX_KEYED_LABELS);
    let mut hint = match last {
        0 => String::new(),
        1 => "1 capture, ".to_string(),
        n => format!("1-{n} capture, "),
    };
    hint.push_str("t train, ");
    if undo_key {
        hint.push_str("c undo, ");
    }
    hint.push_str("q quit");
    hint
}

/// Keys of the terminal as buttons.
pub struct KeyboardButtons {
    n_labels: usize,
    undo_key: bool,
    _raw: Arc<RawMode>,
}

impl Buttons for KeyboardButtons {
    fn poll(&mut self, _now: Instant) -> Result<Vec<ButtonEvent>, PanelError> {
        let mut out = Vec::new();
        while event::poll(Duration::ZERO)? {
            if let Event::Key(key) = event::read()? {
                if let Some(control) = map_key(&key, self.n_labels, self.undo_key) {
                    out.push(ButtonEvent::press(control));
                    out.push(ButtonEvent::release(control));
                }
            }
        }
        Ok(out)
    }
}

/// The whole status line: LEDs, note, key hint, cut to `width` characters so that it never
/// wraps (a wrapped line could not be redrawn in place).
pub fn status_line(labels: &[String], state: &LedState, note: &str, hint: &str, width: usize) -> String {
    let mut line = render_status(labels, state);
    if !note.is_empty() {
        line.push_str("  | ");
        line.push_str(note);
    }
    line.push_str(&format!("  ({hint})"));
    line.chars().take(width.saturating_sub(1).max(20)).collect()
}

/// LEDs drawn on one terminal status line.
pub struct KeyboardLeds {
    labels: Vec<String>,
    hint: String,
    shown: Option<LedState>,
    /// What is in view, as last noted.
    note: String,
    /// When the line was last drawn.
    drawn_at: Option<Instant>,
    _raw: Arc<RawMode>,
}

impl KeyboardLeds {
    fn draw(&mut self, state: &LedState) -> io::Result<()> {
        let width = terminal::size().ok().map(|(w, _)| usize::from(w)).filter(|&w| w > 0).unwrap_or(120);
        let line = status_line(&self.labels, state, &self.note, &self.hint, width);
        let mut out = io::stdout().lock();
        queue!(out, MoveToColumn(0), Clear(ClearType::CurrentLine), Print(line))?;
        out.flush()?;
        self.shown = Some(state.clone());
        self.drawn_at = Some(Instant::now());
        Ok(())
    }
}

impl Leds for KeyboardLeds {
    fn set(&mut self, state: &LedState) -> Result<(), PanelError> {
        check_led_count(state, self.labels.len())?;
        if self.shown.as_ref() != Some(state) {
            self.draw(state)?;
        }
        Ok(())
    }

    fn off(&mut self) {
        let _ = self.draw(&LedState::off(self.labels.len()));
    }

    fn note(&mut self, text: &str) {
        let since = self.drawn_at.map_or(Duration::MAX, |t| t.elapsed());
        let changed = self.note != text;
        if changed {
            self.note = text.to_string();
        }
        if since >= REDRAW || (changed && since >= NOTE_EVERY) {
            let state = self.shown.clone().unwrap_or_else(|| LedState::off(self.labels.len()));
            let _ = self.draw(&state);
        }
    }
}

impl Drop for KeyboardLeds {
    fn drop(&mut self) {
        self.off();
        // Leave the status line so the shell prompt starts on a fresh line.
        let _ = execute!(io::stdout(), Print("\r\n"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    #[test]
    fn keys_map_to_controls() {
        let m = |k| map_key(&k, 2, false);
        assert_eq!(m(key(KeyCode::Char('1'))), Some(Control::Label(0)));
        assert_eq!(m(key(KeyCode::Char('2'))), Some(Control::Label(1)));
        assert_eq!(m(key(KeyCode::Char('3'))), None);
        assert_eq!(m(key(KeyCode::Char('0'))), None);
        assert_eq!(m(key(KeyCode::Char('t'))), Some(Control::Train));
        assert_eq!(m(key(KeyCode::Char('q'))), Some(Control::Quit));
        assert_eq!(m(key(KeyCode::Esc)), Some(Control::Quit));
        assert_eq!(m(key(KeyCode::Char('c'))), None);
        assert_eq!(map_key(&key(KeyCode::Char('c')), 2, true), Some(Control::Undo));
        let ctrl_c = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
        assert_eq!(map_key(&ctrl_c, 2, true), Some(Control::Quit));
        let ctrl_t = KeyEvent::new(KeyCode::Char('t'), KeyModifiers::CONTROL);
        assert_eq!(m(ctrl_t), None);
        let mut release = key(KeyCode::Char('1'));
        release.kind = KeyEventKind::Release;
        assert_eq!(m(release), None);
        let mut repeat = key(KeyCode::Char('1'));
        repeat.kind = KeyEventKind::Repeat;
        assert_eq!(m(repeat), Some(Control::Label(0)));
    }

    #[test]
    fn status_line_shows_each_led() {
        let labels = vec!["cat".to_string(), "dog".to_string()];
        let state = LedState { labels: vec![true, false], status: false };
        assert_eq!(render_status(&labels, &state), "[1 ● cat] [2 ○ dog] status ○");
        assert_eq!(key_hint(2, false), "1-2 capture, t train, q quit");
        assert_eq!(key_hint(1, true), "1 capture, t train, c undo, q quit");
        let hint = key_hint(2, true);
        assert_eq!(
            status_line(&labels, &state, "", &hint, 200),
            "[1 ● cat] [2 ○ dog] status ○  (1-2 capture, t train, c undo, q quit)",
            "the hint shows before anything is in view"
        );
        let line = status_line(&labels, &state, "cat 0.93  dog 0.07", &hint, 200);
        assert_eq!(line, "[1 ● cat] [2 ○ dog] status ○  | cat 0.93  dog 0.07  (1-2 capture, t train, c undo, q quit)");
        assert_eq!(status_line(&labels, &state, "cat 0.93  dog 0.07", &hint, 40).chars().count(), 39, "never wraps");
    }

    #[test]
    fn no_terminal_is_a_clear_error() {
        // Under `cargo test` in CI stdin is not a TTY; skip where it is.
        if io::stdin().is_terminal() {
            return;
        }
        let err = open(&KeyboardConfig::default(), &["cat".into()]).err().expect("must fail without a TTY");
        assert!(matches!(err, PanelError::NotATerminal));
        assert!(err.to_string().contains("not a TTY"));
    }
}
