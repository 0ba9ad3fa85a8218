//! The 2-D convolution op (batch 1, groups 1).

use crate::geometry::Window;

/// `y[co, p] = b[co] + Σ_{ci, ky, kx} w[co, ci, ky, kx] x[ci, src(p, ky, kx)]`.
#[derive(Clone, Debug, PartialEq)]
pub struct Conv2d {
    /// Input geometry, kernel, strides and padding.
    pub window: Window,
    /// Output channels.
    pub out_channels: usize,
    /// Weights `[co][ci][ky][kx]`.
    pub weights: Vec<f32>,
    /// Bias per output channel.
    pub bias: Vec<f32>,
}

impl Conv2d {
    /// Weights per output channel.
    pub fn kernel_len(&self) -> usize {
        self.window.input[0] * self.window.area()
    }

    /// Output shape `[co, oh, ow]`.
    pub fn output_shape(&self) -> [usize; 3] {
        let [h, w] = self.window.output_hw().unwrap_or([0, 0]);
        [self.out_channels, h, w]
    }

    /// Float evaluation on a flat `[C, H, W]` input.
    pub fn eval(&self, x: &[f32]) -> Vec<f32> {
        let win = &self.window;
        let [kh, kw] = win.kernel;
        let k = self.kernel_len();
        let positions = win.positions();
        let mut out = Vec::with_capacity(self.out_channels * positions);
        for co in 0..self.out_channels {
            let w = &self.weights[co * k..(co + 1) * k];
            for p in 0..positions {
                let mut acc = self.bias[co];
                for ci in 0..win.input[0] {
                    for ky in 0..kh {
                        for kx in 0..kw {
                            if let Some(i) = win.source(ci, p, ky, kx) {
                                acc += w[(ci * kh + ky) * kw + kx] * x[i];
                            }
                        }
                    }
                }
                out.push(acc);
            }
        }
        out
    }
}
