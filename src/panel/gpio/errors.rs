//! GPIO failures as one message that names the pin, what it is for, and what to do: `rppal`'s
//! errors mapped with the pin's role, and a check, before any pin is claimed, that no other
//! program or kernel driver holds a configured pin (`rppal` drives pins through memory-mapped
//! registers and would silently fight the other user), read from the GPIO character device
//! through `gpiocdev`.

use super::super::{Control, PanelError};

/// Labels of the GPIO chips whose line numbers are the BCM GPIO numbers (Pi 1–4, Pi 5).
const PI_CHIPS: [&str; 3] = ["pinctrl-bcm2835", "pinctrl-bcm2711", "pinctrl-rp1"];

/// What a pin is for, in messages ("button cat", "LED dog", "status LED").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Role(pub String);

impl Role {
    /// The role of a button bound to `control`, with `labels` naming label controls.
    pub fn button(control: Control, labels: &[String]) -> Self {
        Role(match control {
            Control::Label(k) => format!("button {}", labels.get(k).map_or("?", String::as_str)),
            Control::Train => "button train".into(),
            Control::Undo => "button undo".into(),
            Control::Quit => "button quit".into(),
        })
    }

    /// The role of the LED of `label`.
    pub fn led(label: &str) -> Self {
        Role(format!("LED {label}"))
    }

    /// The status LED's role.
    pub fn status() -> Self {
        Role("status LED".into())
    }
}

/// Maps an `rppal` error to a [`PanelError`] that tells what to do; `pin` is the pin (and its
/// role) being claimed, if any.
pub fn gpio_error(e: rppal::gpio::Error, pin: Option<(u8, &Role)>) -> PanelError {
    use rppal::gpio::Error as E;
    use std::io::ErrorKind;
    let busy = |pin: u8, role: &Role, user: Option<String>| PanelError::PinBusy { pin, role: role.0.clone(), user };
    match (e, pin) {
        (E::UnknownModel, _) => PanelError::NotRaspberryPi,
        (E::PermissionDenied(path), _) => PanelError::GpioPermission { path },
        (E::Io(e), _) if e.kind() == ErrorKind::NotFound => PanelError::GpioMissing(e),
        (E::Io(e), _) if e.kind() == ErrorKind::PermissionDenied => {
            PanelError::GpioPermission { path: "/dev/gpiomem and /dev/gpiochip0".into() }
        }
        (E::Io(e), Some((pin, role))) if e.kind() == ErrorKind::ResourceBusy => busy(pin, role, None),
        // Claimed twice by this process: the configuration check rules out duplicates, so only
        // a second panel opened while the first is alive gets here.
        (E::PinUsed(p), _) => PanelError::DuplicatePin(p),
        (E::PinNotAvailable(p), pin) => {
            PanelError::NoSuchPin { pin: p, role: pin.map_or_else(|| "a pin".into(), |(_, r)| r.0.clone()) }
        }
        (other, _) => PanelError::Gpio(other.to_string()),
    }
}

/// The first of `pins` that another program or a kernel driver holds, as a [`PanelError::PinBusy`]
/// naming it. Best effort: `None` when the GPIO character device cannot be read (no Pi, old
/// kernel, no permission — `rppal` reports the latter itself).
pub fn first_busy(pins: &[(u8, Role)]) -> Option<PanelError> {
    let chip = pi_chip()?;
    pins.iter().find_map(|(pin, role)| {
        let info = chip.line_info(u32::from(*pin)).ok()?;
        info.used.then(|| busy_by(*pin, role, &info.consumer))
    })
}

/// The GPIO chip of the 40-pin header, if this is a Raspberry Pi with a readable one.
fn pi_chip() -> Option<gpiocdev::Chip> {
    gpiocdev::chip::chips().ok()?.into_iter().find_map(|path| {
        let chip = gpiocdev::Chip::from_path(&path).ok()?;
        let label = chip.info().ok()?.label;
        PI_CHIPS.iter().any(|p| label.starts_with(p)).then_some(chip)
    })
}

/// `pin` is held by `consumer` (the name the kernel keeps for its user; empty when unknown).
pub fn busy_by(pin: u8, role: &Role, consumer: &str) -> PanelError {
    let user = match consumer.trim() {
        "" => None,
        "sysfs" => Some("a program that exported it through /sys/class/gpio".into()),
        name => Some(format!("\"{name}\"")),
    };
    PanelError::PinBusy { pin, role: role.0.clone(), user }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rppal::gpio::Error as E;
    use std::io;

    fn cat() -> Role {
        Role::button(Control::Label(0), &["cat".into()])
    }

    #[test]
    fn busy_pins_name_the_pin_its_role_and_what_to_do() {
        let msg = busy_by(17, &cat(), "lg").to_string();
        assert_eq!(
            msg,
            "GPIO 17 (button cat) is busy: \"lg\" uses it; stop that program (or remove the dtoverlay that claims the pin) or change the pin in [panel]"
        );
        let msg = busy_by(4, &Role::led("dog"), "sysfs").to_string();
        assert!(
            msg.starts_with("GPIO 4 (LED dog) is busy: a program that exported it through /sys/class/gpio uses it"),
            "{msg}"
        );
        let msg = busy_by(25, &Role::status(), " ").to_string();
        assert!(msg.starts_with("GPIO 25 (status LED) is busy: another program uses it"), "{msg}");
        let ebusy = E::Io(io::Error::from_raw_os_error(16));
        let msg = gpio_error(ebusy, Some((22, &Role::button(Control::Train, &[])))).to_string();
        assert!(msg.starts_with("GPIO 22 (button train) is busy: another program uses it"), "{msg}");
        assert!(matches!(gpio_error(E::PinUsed(17), Some((17, &cat()))), PanelError::DuplicatePin(17)));
    }

    #[test]
    fn permission_errors_name_the_device_and_the_group() {
        let msg = gpio_error(E::PermissionDenied("/dev/gpiochip0".into()), None).to_string();
        assert_eq!(
            msg,
            "no permission for /dev/gpiochip0: add the user to the gpio group (sudo usermod -aG gpio $USER, then log in again)"
        );
        let msg = gpio_error(E::PermissionDenied("/dev/gpiomem".into()), None).to_string();
        assert!(msg.contains("/dev/gpiomem") && msg.contains("gpio group"), "{msg}");
        let eacces = E::Io(io::Error::from(io::ErrorKind::PermissionDenied));
        assert!(gpio_error(eacces, Some((17, &cat()))).to_string().contains("gpio group"));
    }

    #[test]
    fn other_rppal_errors() {
        assert!(matches!(gpio_error(E::UnknownModel, None), PanelError::NotRaspberryPi));
        let missing = E::Io(io::Error::from(io::ErrorKind::NotFound));
        assert!(matches!(gpio_error(missing, None), PanelError::GpioMissing(_)));
        let msg = gpio_error(E::PinNotAvailable(40), Some((40, &Role::led("cat")))).to_string();
        assert!(msg.starts_with("GPIO 40 (LED cat) does not exist on this board"), "{msg}");
        assert!(gpio_error(E::ThreadPanic, None).to_string().starts_with("GPIO error: "));
    }

    #[test]
    fn the_busy_check_is_quiet_without_a_pi() {
        // No Raspberry Pi GPIO chip here (or none readable): nothing to report, no panic.
        if pi_chip().is_none() {
            assert!(first_busy(&[(17, cat())]).is_none());
        }
    }
}
