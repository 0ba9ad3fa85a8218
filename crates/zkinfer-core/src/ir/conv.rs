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
        let k = self.kernel_len();
        (0..self.out_channels)
            .flat_map(|co| (0..self.window.positions()).map(move |p| (co, p)))
            .map(|(co, p)| {
                let w = &self.weights[co * k..(co + 1) * k];
                self.bias[co] + self.window.taps(p).map(|(t, i)| w[t] * x[i]).sum::<f32>()
            })
            .collect()
    }
}
