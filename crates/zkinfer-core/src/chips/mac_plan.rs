//! Row plans of the MAC chip: which input feeds which slot, for dense and convolution layers.

use super::mac::{MacRowPlan, XSource};
use crate::circuit::{MAC_GROUPS, MAC_WIDTH};
use crate::geometry::Window;

/// Dense layer over `batch` rows of `inputs` values: one row per (output, block of
/// `MAC_GROUPS` batch rows, chunk of `MAC_WIDTH` inputs). Blocks after the first reuse the first
/// block's weights. Output `j` of batch row `b` is output index `b * outputs + j`.
pub fn dense(inputs: usize, outputs: usize, batch: usize) -> Vec<MacRowPlan> {
    let chunks = inputs.div_ceil(MAC_WIDTH);
    let blocks = batch.div_ceil(MAC_GROUPS);
    let mut rows = Vec::with_capacity(outputs * blocks * chunks);
    for j in 0..outputs {
        let filter_start = rows.len();
        for b in 0..blocks {
            for c in 0..chunks {
                let mut x = vec![XSource::Unused; MAC_GROUPS * MAC_WIDTH];
                let mut outs = vec![None; MAC_GROUPS];
                for g in 0..MAC_GROUPS {
                    let row = b * MAC_GROUPS + g;
                    if row >= batch {
                        continue;
                    }
                    for i in 0..MAC_WIDTH {
                        let n = c * MAC_WIDTH + i;
                        if n < inputs {
                            x[g * MAC_WIDTH + i] = XSource::Input(row * inputs + n);
                        }
                    }
                    if c + 1 == chunks {
                        outs[g] = Some(row * outputs + j);
                    }
                }
                rows.push(MacRowPlan {
                    first: c == 0,
                    x,
                    reuse: (b > 0).then_some(filter_start + c),
                    outputs: outs,
                    filter: j,
                    chunk: c,
                });
            }
        }
    }
    rows
}

/// Rows of a dense layer without building the plan.
pub fn dense_rows(inputs: usize, outputs: usize, batch: usize) -> usize {
    outputs * batch.div_ceil(MAC_GROUPS) * inputs.div_ceil(MAC_WIDTH)
}

/// Convolution: one row per (output channel, block of `MAC_GROUPS` positions, chunk of
/// `MAC_WIDTH` kernel weights). Blocks after the first reuse the first block's weights.
pub fn conv(window: &Window, out_channels: usize) -> Vec<MacRowPlan> {
    let [kh, kw] = window.kernel;
    let k = window.input[0] * kh * kw;
    let chunks = k.div_ceil(MAC_WIDTH);
    let positions = window.positions();
    let blocks = positions.div_ceil(MAC_GROUPS);
    let mut rows = Vec::with_capacity(out_channels * blocks * chunks);
    for co in 0..out_channels {
        let filter_start = rows.len();
        for b in 0..blocks {
            for c in 0..chunks {
                let mut x = vec![XSource::Unused; MAC_GROUPS * MAC_WIDTH];
                let mut outs = vec![None; MAC_GROUPS];
                for g in 0..MAC_GROUPS {
                    let pos = b * MAC_GROUPS + g;
                    if pos >= positions {
                        continue;
                    }
                    for i in 0..MAC_WIDTH {
                        let kk = c * MAC_WIDTH + i;
                        if kk >= k {
                            break;
                        }
                        let (ci, ky, kx) = (kk / (kh * kw), (kk / kw) % kh, kk % kw);
                        x[g * MAC_WIDTH + i] = match window.source(ci, pos, ky, kx) {
                            Some(src) => XSource::Input(src),
                            None => XSource::Zero,
                        };
                    }
                    if c + 1 == chunks {
                        outs[g] = Some(co * positions + pos);
                    }
                }
                rows.push(MacRowPlan {
                    first: c == 0,
                    x,
                    reuse: (b > 0).then_some(filter_start + c),
                    outputs: outs,
                    filter: co,
                    chunk: c,
                });
            }
        }
    }
    rows
}

/// Rows of a conv layer without building the plan.
pub fn conv_rows(window: &Window, out_channels: usize) -> usize {
    let k = window.input[0] * window.area();
    out_channels * window.positions().div_ceil(MAC_GROUPS) * k.div_ceil(MAC_WIDTH)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conv_plan_reuses_first_block() {
        let w = Window {
            input: [2, 4, 4],
            kernel: [3, 3],
            stride: [1, 1],
            pads: [1, 1, 1, 1],
        };
        let plan = conv(&w, 3);
        assert_eq!(plan.len(), conv_rows(&w, 3));
        // 18 weights fit one chunk; 16 positions in 8 blocks of 2.
        assert_eq!(plan.len(), 3 * 8);
        assert_eq!(plan[0].reuse, None);
        assert_eq!(plan[1].reuse, Some(0));
        assert_eq!(plan[8].reuse, None);
        assert_eq!(plan[9].reuse, Some(8));
        // Position 0 at kernel (0, 0) reads padding.
        assert_eq!(plan[0].x[0], XSource::Zero);
        assert_eq!(plan[0].x[4], XSource::Input(0));
        let outputs: usize = plan
            .iter()
            .map(|r| r.outputs.iter().flatten().count())
            .sum();
        assert_eq!(outputs, 3 * 16);
    }
}
