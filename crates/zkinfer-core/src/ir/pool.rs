//! Max and average pooling.

use crate::geometry::Window;

/// Pooling kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PoolKind {
    /// Maximum over the window (padding ignored).
    Max,
    /// Sum over the window divided by the kernel area (padding counts as zeros).
    Average,
    /// Sum over the window (a reduction).
    Sum,
}

/// A pooling op.
#[derive(Clone, Debug, PartialEq)]
pub struct Pool {
    /// Kind.
    pub kind: PoolKind,
    /// Geometry.
    pub window: Window,
    /// Average pools: divide by the number of values inside the input, not the area.
    pub exclude_pad: bool,
}

impl Pool {
    /// A reduction of `outer` groups of `len` consecutive values each (the reduced axes last).
    pub fn reduce(kind: PoolKind, outer: usize, len: usize) -> Self {
        Pool {
            kind,
            window: Window {
                input: [outer, 1, len],
                kernel: [1, len],
                stride: [1, 1],
                pads: [0; 4],
                dilation: [1, 1],
            },
            exclude_pad: false,
        }
    }

    /// Output shape `[c, oh, ow]`.
    pub fn output_shape(&self) -> [usize; 3] {
        let [h, w] = self.window.output_hw().unwrap_or([0, 0]);
        [self.window.input[0], h, w]
    }

    /// Float evaluation on a flat `[C, H, W]` input.
    pub fn eval(&self, x: &[f32]) -> Vec<f32> {
        let win = &self.window;
        let positions = win.positions();
        let mut out = Vec::with_capacity(win.input[0] * positions);
        for c in 0..win.input[0] {
            for p in 0..positions {
                let values: Vec<f32> = win.sources(c, p).map(|i| x[i]).collect();
                let divisor = if self.exclude_pad {
                    values.len().max(1)
                } else {
                    win.area()
                };
                out.push(match self.kind {
                    PoolKind::Max => values.iter().copied().fold(f32::NEG_INFINITY, f32::max),
                    PoolKind::Average => values.iter().sum::<f32>() / divisor as f32,
                    PoolKind::Sum => values.iter().sum::<f32>(),
                });
            }
        }
        out
    }
}
