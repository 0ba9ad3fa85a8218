//! Sliding-window geometry shared by convolutions and pooling.

use serde::{Deserialize, Serialize};

/// Kernel size, strides and zero padding of a 2-D window op on a `[C, H, W]` tensor.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Window {
    /// Input shape `[channels, height, width]`.
    pub input: [usize; 3],
    /// Kernel `[height, width]`.
    pub kernel: [usize; 2],
    /// Strides `[height, width]`.
    pub stride: [usize; 2],
    /// Padding `[top, left, bottom, right]`.
    pub pads: [usize; 4],
    /// Spacing of kernel taps `[height, width]` (1: adjacent).
    #[serde(default = "adjacent")]
    pub dilation: [usize; 2],
}

fn adjacent() -> [usize; 2] {
    [1, 1]
}

impl Window {
    /// Output `[height, width]`, or `None` if the kernel does not fit or a stride is 0.
    pub fn output_hw(&self) -> Option<[usize; 2]> {
        let [_, h, w] = self.input;
        let dim = |size: usize, pad: usize, k: usize, s: usize| -> Option<usize> {
            let padded = size.checked_add(pad)?;
            (s > 0 && k > 0 && padded >= k).then(|| (padded - k) / s + 1)
        };
        let span = |k: usize, d: usize| (k.max(1) - 1) * d + 1;
        Some([
            dim(
                h,
                self.pads[0] + self.pads[2],
                span(self.kernel[0], self.dilation[0]),
                self.stride[0],
            )?,
            dim(
                w,
                self.pads[1] + self.pads[3],
                span(self.kernel[1], self.dilation[1]),
                self.stride[1],
            )?,
        ])
    }

    /// Weights per MAC row when a square patch of `lines` output lines and `patch`-wide
    /// kernels lays this convolution out in rows of `width` slots: whole channels
    /// (`⌊width / patch²⌋ · patch²`), or `None` when the window does not fit one (a kernel of
    /// another size, a stride or dilation other than 1, one line, no whole channel per row).
    /// The MAC row plans and the committed message both chunk a filter's weights by it.
    pub fn square_chunk(&self, patch: usize, lines: usize, width: usize) -> Option<usize> {
        let area = patch.checked_mul(patch)?;
        let fits = lines > 1
            && area > 0
            && width >= area
            && self.kernel == [patch, patch]
            && self.stride == [1, 1]
            && self.dilation == [1, 1];
        fits.then(|| width / area * area)
    }

    /// Number of output positions.
    pub fn positions(&self) -> usize {
        self.output_hw().map(|[h, w]| h * w).unwrap_or(0)
    }

    /// Kernel area.
    pub fn area(&self) -> usize {
        self.kernel[0] * self.kernel[1]
    }

    /// Flat input index (within channel `c`) read by output position `pos` at kernel offset
    /// `(ky, kx)`, or `None` when it falls in the padding.
    pub fn source(&self, c: usize, pos: usize, ky: usize, kx: usize) -> Option<usize> {
        let [_, h, w] = self.input;
        let ow = self.output_hw()?[1];
        let (oy, ox) = (pos / ow, pos % ow);
        let y = (oy * self.stride[0] + ky * self.dilation[0]).checked_sub(self.pads[0])?;
        let x = (ox * self.stride[1] + kx * self.dilation[1]).checked_sub(self.pads[1])?;
        (y < h && x < w).then_some(c * h * w + y * w + x)
    }

    /// Input index read by output position `pos` at tap `t` (an offset within one filter's
    /// `[C, kh, kw]` weights), or `None` in the padding.
    pub fn tap(&self, pos: usize, t: usize) -> Option<usize> {
        let [kh, kw] = self.kernel;
        self.source(t / (kh * kw), pos, (t / kw) % kh, t % kw)
    }

    /// Every tap of output position `pos` that falls inside the input, as
    /// `(offset within one filter's [C, kh, kw] weights, flat input index)`.
    pub fn taps(&self, pos: usize) -> impl Iterator<Item = (usize, usize)> + '_ {
        self.group_taps(pos, 0, self.input[0])
    }

    /// Input index read by output position `pos` at tap `t` of a filter that reads the
    /// channels from `first` on (a grouped convolution), or `None` in the padding.
    pub fn group_tap(&self, pos: usize, t: usize, first: usize) -> Option<usize> {
        let [kh, kw] = self.kernel;
        self.source(first + t / (kh * kw), pos, (t / kw) % kh, t % kw)
    }

    /// Like [`Window::taps`] for a filter reading `channels` channels from `first` on.
    pub fn group_taps(
        &self,
        pos: usize,
        first: usize,
        channels: usize,
    ) -> impl Iterator<Item = (usize, usize)> + '_ {
        (0..channels * self.area())
            .filter_map(move |t| self.group_tap(pos, t, first).map(|i| (t, i)))
    }

    /// Sanity bounds for untrusted geometry.
    pub fn is_reasonable(&self) -> bool {
        let small = |v: usize| v <= 1 << 12;
        self.input.iter().all(|d| *d > 0 && small(*d))
            && self.kernel.iter().all(|d| *d > 0 && small(*d))
            && self.stride.iter().all(|d| *d > 0 && small(*d))
            && self.pads.iter().all(|d| small(*d))
            && self.dilation.iter().all(|d| *d > 0 && small(*d))
            && self.output_hw().is_some()
    }
}

impl Window {
    /// Input indices of every pooling window, channel-major then position (padding skipped).
    pub fn windows(&self) -> Vec<Vec<usize>> {
        (0..self.input[0])
            .flat_map(|c| (0..self.positions()).map(move |p| (c, p)))
            .map(|(c, p)| self.sources(c, p).collect())
            .collect()
    }

    /// Input indices of channel `c` read by output position `pos` (padding skipped).
    pub fn sources(&self, c: usize, pos: usize) -> impl Iterator<Item = usize> + '_ {
        let [kh, kw] = self.kernel;
        (0..kh * kw).filter_map(move |t| self.source(c, pos, t / kw, t % kw))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_and_sources() {
        let w = Window {
            input: [1, 4, 4],
            kernel: [3, 3],
            stride: [1, 1],
            pads: [1, 1, 1, 1],
            dilation: [1, 1],
        };
        assert_eq!(w.output_hw(), Some([4, 4]));
        assert_eq!(w.source(0, 0, 0, 0), None);
        assert_eq!(w.source(0, 0, 1, 1), Some(0));
        assert_eq!(w.source(0, 5, 2, 2), Some(10));
        let p = Window {
            input: [2, 5, 5],
            kernel: [2, 2],
            stride: [2, 2],
            pads: [0; 4],
            dilation: [1, 1],
        };
        assert_eq!(p.output_hw(), Some([2, 2]));
        assert_eq!(p.source(1, 3, 1, 1), Some(25 + 3 * 5 + 3));
    }
}
