//! Row plans of the MAC chip: which input feeds which slot, for dense and convolution layers.

use super::mac::{MacRowPlan, XSource};
use crate::geometry::Window;

/// Rows for `filters` weight rows of `k` weights applied to `items` (batch rows or output
/// positions): one row per (filter, block of `groups` items, chunk of `width` weights).
/// Blocks after a filter's first reuse the first block's weights. `source(filter, item, t)`
/// feeds weight `t` of an item; `output(filter, item)` numbers the result.
fn blocked(
    (groups, width): (usize, usize),
    filters: usize,
    items: usize,
    k: usize,
    source: impl Fn(usize, usize, usize) -> XSource,
    output: impl Fn(usize, usize) -> usize,
) -> Vec<MacRowPlan> {
    let (groups, width) = (groups.max(1), width.max(1));
    let chunks = k.div_ceil(width);
    let blocks = items.div_ceil(groups);
    let mut rows = Vec::with_capacity(filters * blocks * chunks);
    for f in 0..filters {
        let filter_start = rows.len();
        for b in 0..blocks {
            for c in 0..chunks {
                let mut x = vec![XSource::Zero; groups * width];
                let mut outs = vec![None; groups];
                for g in 0..groups {
                    let item = b * groups + g;
                    if item >= items {
                        continue;
                    }
                    for i in 0..width.min(k.saturating_sub(c * width)) {
                        x[g * width + i] = source(f, item, c * width + i);
                    }
                    if c + 1 == chunks {
                        outs[g] = Some(output(f, item));
                    }
                }
                rows.push(MacRowPlan {
                    first: c == 0,
                    x,
                    reuse: (b > 0).then_some(filter_start + c),
                    outputs: outs,
                    filter: f,
                    chunk: c,
                    weights: width.min(k - c * width),
                });
            }
        }
    }
    rows
}

/// Dense layer over `batch` rows of `inputs` values in `groups` input groups of `width`
/// weights; output `j` of row `b` is output index `b * outputs + j`.
pub fn dense(
    (groups, width): (usize, usize),
    inputs: usize,
    outputs: usize,
    batch: usize,
) -> Vec<MacRowPlan> {
    blocked(
        (groups, width),
        outputs,
        batch,
        inputs,
        |_, row, n| XSource::Input(row * inputs + n),
        |j, row| row * outputs + j,
    )
}

/// Rows of a dense layer without building the plan.
pub fn dense_rows(
    (groups, width): (usize, usize),
    inputs: usize,
    outputs: usize,
    batch: usize,
) -> usize {
    outputs * batch.div_ceil(groups.max(1)) * inputs.div_ceil(width.max(1))
}

/// Convolution (`groups` channel groups) over `copies` inferences side by side (input `c`
/// starts at `c * input_len`) in `mac_groups` input groups of `width` weights: items are
/// (inference, output position) pairs, so a filter's weights serve every inference; taps in
/// the padding read the constant zero.
pub fn conv(
    (mac_groups, width): (usize, usize),
    window: &Window,
    out_channels: usize,
    groups: usize,
    copies: usize,
) -> Vec<MacRowPlan> {
    let positions = window.positions();
    let input_len = window.input.iter().product::<usize>();
    let cin = window.input[0] / groups.max(1);
    blocked(
        (mac_groups, width),
        out_channels,
        positions * copies.max(1),
        cin * window.area(),
        |co, item, t| {
            let (copy, pos) = (item / positions.max(1), item % positions.max(1));
            let first = crate::ir::conv_first_channel(window.input[0], out_channels, groups, co);
            window
                .group_tap(pos, t, first)
                .map_or(XSource::Zero, |i| XSource::Input(copy * input_len + i))
        },
        |co, item| {
            let (copy, pos) = (item / positions.max(1), item % positions.max(1));
            copy * out_channels * positions + co * positions + pos
        },
    )
}

/// Rows of a conv layer over `copies` inferences without building the plan.
pub fn conv_rows(
    (mac_groups, width): (usize, usize),
    window: &Window,
    out_channels: usize,
    groups: usize,
    copies: usize,
) -> usize {
    let k = window.input[0] / groups.max(1) * window.area();
    out_channels
        * (window.positions() * copies.max(1)).div_ceil(mac_groups.max(1))
        * k.div_ceil(width.max(1))
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
            dilation: [1, 1],
        };
        let plan = conv((2, 31), &w, 3, 1, 1);
        assert_eq!(plan.len(), conv_rows((2, 31), &w, 3, 1, 1));
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

    #[test]
    fn conv_plan_over_two_inferences_shares_filters() {
        let w = Window {
            input: [1, 3, 3],
            kernel: [2, 2],
            stride: [1, 1],
            pads: [0, 0, 0, 0],
            dilation: [1, 1],
        };
        // 4 positions per inference, 2 inferences: 8 items in 4 blocks per filter.
        let plan = conv((2, 31), &w, 2, 1, 2);
        assert_eq!(plan.len(), conv_rows((2, 31), &w, 2, 1, 2));
        assert_eq!(plan.len(), 2 * 4);
        // Block 2 holds the second inference's positions 0 and 1, reading its own input.
        assert_eq!(plan[2].reuse, Some(0));
        assert_eq!(plan[2].x[0], XSource::Input(9));
        assert_eq!(plan[2].outputs[0], Some(2 * 4));
        // The second filter's second inference, position 3.
        assert_eq!(plan[7].outputs[1], Some(2 * 4 + 4 + 3));
    }
}
