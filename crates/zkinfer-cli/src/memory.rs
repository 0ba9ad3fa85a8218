//! The machine's memory, to warn when a model is predicted to need more to prove.

/// Bytes of `MemTotal` in a `/proc/meminfo` text.
fn mem_total(meminfo: &str) -> Option<f64> {
    let line = meminfo.lines().find(|l| l.starts_with("MemTotal:"))?;
    let mut words = line.split_whitespace().skip(1);
    let value: f64 = words.next()?.parse().ok()?;
    match words.next() {
        Some("kB") => Some(value * 1024.0),
        None => Some(value),
        Some(_) => None,
    }
}

/// This machine's memory in bytes, where the system says (Linux).
pub fn machine_bytes() -> Option<f64> {
    mem_total(&std::fs::read_to_string("/proc/meminfo").ok()?)
}

/// A warning when `predicted` bytes of peak memory exceed `available`.
pub fn warning(predicted: f64, available: Option<f64>) -> Option<String> {
    let available = available?;
    (predicted > available).then(|| {
        format!(
            "warning: proving is predicted to peak at {:.1} GB, more than this machine's {:.1} GB",
            predicted / 1e9,
            available / 1e9
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meminfo_total_is_read_in_bytes() {
        let text = "MemTotal:       24576000 kB\nMemFree:         1000 kB\n";
        assert_eq!(mem_total(text), Some(24576000.0 * 1024.0));
        assert_eq!(mem_total("MemFree: 1 kB\n"), None);
    }

    #[test]
    fn only_a_prediction_beyond_the_machine_warns() {
        assert!(warning(30e9, Some(24e9)).unwrap().contains("30.0 GB"));
        assert_eq!(warning(3e9, Some(24e9)), None);
        assert_eq!(warning(30e9, None), None);
    }
}
