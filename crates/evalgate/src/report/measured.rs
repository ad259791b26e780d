//! One gate's measurement, whichever report measured it.

/// One measurement: the value, what is behind it, and the points it blames.
#[derive(Debug, Default)]
pub(crate) struct Measured {
    pub value: Option<f64>,
    pub details: Vec<String>,
    pub points: Vec<String>,
    pub skipped: Option<String>,
}

impl Measured {
    pub(super) fn value(value: f64) -> Measured {
        Measured {
            value: Some(value),
            ..Measured::default()
        }
    }

    pub(super) fn count(items: Vec<String>) -> Measured {
        Measured {
            value: Some(items.len() as f64),
            details: items,
            ..Measured::default()
        }
    }

    pub(super) fn skipped(why: String) -> Measured {
        Measured {
            skipped: Some(why),
            ..Measured::default()
        }
    }

    pub(super) fn detail(mut self, text: String) -> Measured {
        self.details.push(text);
        self
    }
}
