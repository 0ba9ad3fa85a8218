//! Spinners on stderr for the long stages.

use std::cell::RefCell;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};
use zkinfer::{Progress, Stage};

/// Draws one spinner per running stage.
#[derive(Default)]
pub struct Bars {
    current: RefCell<Option<ProgressBar>>,
}

fn label(stage: Stage) -> String {
    match stage {
        Stage::ParamsGeneration { k } => {
            format!("generating IPA parameters for 2^{k} rows (once, then cached)")
        }
        Stage::KeyGeneration => "generating keys".into(),
        Stage::Proving => "proving".into(),
        Stage::Verifying => "verifying".into(),
    }
}

impl Progress for Bars {
    fn start(&self, stage: Stage) {
        let bar = ProgressBar::new_spinner();
        bar.set_style(
            ProgressStyle::with_template("{spinner} {msg} [{elapsed}]")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        bar.set_message(label(stage));
        bar.enable_steady_tick(Duration::from_millis(120));
        *self.current.borrow_mut() = Some(bar);
    }

    fn finish(&self, stage: Stage) {
        if let Some(bar) = self.current.borrow_mut().take() {
            bar.finish_with_message(format!("{} done", label(stage)));
        }
    }
}
