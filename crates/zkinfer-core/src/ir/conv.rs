//! The 2-D convolution op (batch 1; grouped, depthwise and dilated included).

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
    /// Channel groups: filter `co` reads the `C / groups` input channels of group
    /// `co / (out_channels / groups)`.
    pub groups: usize,
}

impl Conv2d {
    /// Weights per output channel.
    pub fn kernel_len(&self) -> usize {
        self.window.input[0] / self.groups.max(1) * self.window.area()
    }

    /// First input channel read by filter `co`.
    pub fn first_channel(&self, co: usize) -> usize {
        first_channel(self.window.input[0], self.out_channels, self.groups, co)
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
                let cin = self.window.input[0] / self.groups.max(1);
                self.bias[co]
                    + self
                        .window
                        .group_taps(p, self.first_channel(co), cin)
                        .map(|(t, i)| w[t] * x[i])
                        .sum::<f32>()
            })
            .collect()
    }
}

/// First input channel read by filter `co` of a convolution with `groups` groups.
pub fn first_channel(in_channels: usize, out_channels: usize, groups: usize, co: usize) -> usize {
    let g = groups.max(1);
    let per_group = (out_channels / g).max(1);
    (co / per_group) * (in_channels / g)
}
