//! Row plans of the MAC chip: which input feeds which slot, for dense and convolution layers.

use super::mac::{MacRowPlan, XSource};
use super::mac_patch;
pub use super::mac_patch::{chunk_len, fits_patch};
use super::mac_shape::MacShape;
use crate::geometry::Window;

/// Rows for `filters` weight rows of `k` weights applied to `items` (batch rows or output
/// positions): one row per (filter, block of items, chunk of the shape's weights), a block
/// holding as many items as the shape has [free groups](MacShape::free_groups). Blocks after
/// a filter's first reuse the first block's weights. `source(filter, item, t)` feeds weight
/// `t` of an item; `output(filter, item)` numbers the result.
fn blocked(
    shape: MacShape,
    filters: usize,
    items: usize,
    k: usize,
    source: impl Fn(usize, usize, usize) -> XSource,
    output: impl Fn(usize, usize) -> usize,
) -> Vec<MacRowPlan> {
    let (free, width) = (shape.free_groups().max(1), shape.width.max(1));
    let chunks = k.div_ceil(width);
    let blocks = items.div_ceil(free);
    let mut rows = Vec::with_capacity(filters * blocks * chunks);
    for f in 0..filters {
        let filter_start = rows.len();
        for b in 0..blocks {
            for c in 0..chunks {
                let mut x = vec![XSource::Zero; shape.cells()];
                let mut outs = vec![None; shape.groups];
                for g in 0..free {
                    let item = b * free + g;
                    if item >= items {
                        continue;
                    }
                    for i in 0..width.min(k.saturating_sub(c * width)) {
                        x[shape.cell(g, i)] = source(f, item, c * width + i);
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
                    span: 1,
                    offset: c * width,
                    weights: width.min(k - c * width),
                });
            }
        }
    }
    rows
}

/// Tile rows (a tile shape): for every item, blocks of up to `per_block` filters that read
/// the item's inputs from the same cells (group `g` computes the block's filter `g`), one row
/// per chunk of `k` weights. Nothing is reused: the weights are fixed cells of every row.
fn tiled(
    shape: MacShape,
    per_block: usize,
    (filters, items, k): (usize, usize, usize),
    source: impl Fn(usize, usize, usize) -> XSource,
    output: impl Fn(usize, usize) -> usize,
) -> Vec<MacRowPlan> {
    let (per_block, width) = (per_block.clamp(1, shape.groups.max(1)), shape.width.max(1));
    let chunks = k.div_ceil(width);
    let mut rows = Vec::with_capacity(items * filters.div_ceil(per_block) * chunks);
    for item in 0..items {
        for f0 in (0..filters).step_by(per_block) {
            let span = per_block.min(filters - f0);
            for c in 0..chunks {
                let mut x = vec![XSource::Zero; shape.cells()];
                for i in 0..width.min(k - c * width) {
                    x[shape.cell(0, i)] = source(f0, item, c * width + i);
                }
                let last = c + 1 == chunks;
                rows.push(MacRowPlan {
                    first: c == 0,
                    x,
                    reuse: None,
                    outputs: (0..shape.groups)
                        .map(|g| (last && g < span).then(|| output(f0 + g, item)))
                        .collect(),
                    filter: f0,
                    span,
                    offset: c * width,
                    weights: width.min(k - c * width),
                });
            }
        }
    }
    rows
}

/// Dense layer over `batch` rows of `inputs` values; output `j` of row `b` is output index
/// `b * outputs + j`.
pub fn dense(shape: MacShape, inputs: usize, outputs: usize, batch: usize) -> Vec<MacRowPlan> {
    if shape.tile {
        return tiled(
            shape,
            shape.groups,
            (outputs, batch, inputs),
            |_, row, n| XSource::Input(row * inputs + n),
            |j, row| row * outputs + j,
        );
    }
    blocked(
        shape,
        outputs,
        batch,
        inputs,
        |_, row, n| XSource::Input(row * inputs + n),
        |j, row| row * outputs + j,
    )
}

/// Rows of a dense layer without building the plan.
pub fn dense_rows(shape: MacShape, inputs: usize, outputs: usize, batch: usize) -> usize {
    let chunks = inputs.div_ceil(shape.width.max(1));
    match shape.tile {
        true => batch * outputs.div_ceil(shape.groups.max(1)) * chunks,
        false => outputs * batch.div_ceil(shape.free_groups().max(1)) * chunks,
    }
}

/// Filters a tile row of a convolution holds: the shape's groups, or one for a grouped
/// convolution (its filters read different channels).
fn tile_filters(shape: MacShape, groups: usize) -> usize {
    match groups {
        1 => shape.groups,
        _ => 1,
    }
}

/// Convolution (`groups` channel groups) over `copies` inferences side by side (input `c`
/// starts at `c * input_len`): items are (inference, output position) pairs, so a filter's
/// weights serve every inference; taps in the padding read the constant zero. A convolution
/// that [fits the patch shape](fits_patch) gets patch rows.
pub fn conv(
    shape: MacShape,
    window: &Window,
    out_channels: usize,
    groups: usize,
    copies: usize,
) -> Vec<MacRowPlan> {
    if fits_patch(shape, window) {
        return mac_patch::conv(shape, window, out_channels, groups, copies);
    }
    let positions = window.positions();
    let input_len = window.input.iter().product::<usize>();
    let cin = window.input[0] / groups.max(1);
    let source = |co: usize, item: usize, t: usize| {
        let (copy, pos) = (item / positions.max(1), item % positions.max(1));
        let first = crate::ir::conv_first_channel(window.input[0], out_channels, groups, co);
        window
            .group_tap(pos, t, first)
            .map_or(XSource::Zero, |i| XSource::Input(copy * input_len + i))
    };
    let output = |co: usize, item: usize| {
        let (copy, pos) = (item / positions.max(1), item % positions.max(1));
        copy * out_channels * positions + co * positions + pos
    };
    let (items, k) = (positions * copies.max(1), cin * window.area());
    match shape.tile {
        true => tiled(
            shape,
            tile_filters(shape, groups),
            (out_channels, items, k),
            source,
            output,
        ),
        false => blocked(shape, out_channels, items, k, source, output),
    }
}

/// Rows of a conv layer over `copies` inferences without building the plan.
pub fn conv_rows(
    shape: MacShape,
    window: &Window,
    out_channels: usize,
    groups: usize,
    copies: usize,
) -> usize {
    let k = window.input[0] / groups.max(1) * window.area();
    let chunks = k.div_ceil(chunk_len(shape, window).max(1));
    let items = window.positions() * copies.max(1);
    if shape.tile {
        return items * out_channels.div_ceil(tile_filters(shape, groups)) * chunks;
    }
    let blocks = if fits_patch(shape, window) {
        mac_patch::blocks(shape, window, copies)
    } else {
        items.div_ceil(shape.free_groups().max(1))
    };
    out_channels * blocks * chunks
}

#[cfg(test)]
pub(super) mod tests {
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
        let plan = conv(MacShape::plain(2, 31), &w, 3, 1, 1);
        assert_eq!(plan.len(), conv_rows(MacShape::plain(2, 31), &w, 3, 1, 1));
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

    /// Every output's (weight index, input) products, read through `shape`'s cells.
    #[allow(clippy::type_complexity)] // (output, [(filter, weight index, input)])
    pub(in crate::chips) fn products(
        plan: &[MacRowPlan],
        shape: MacShape,
    ) -> Vec<(usize, Vec<(usize, usize, usize)>)> {
        let mut out = Vec::new();
        let mut start = 0;
        while start < plan.len() {
            let end = (start + 1..plan.len())
                .find(|&r| plan[r].first)
                .unwrap_or(plan.len());
            for g in 0..shape.groups {
                let Some(o) = plan[end - 1].outputs[g] else {
                    continue;
                };
                let mut terms: Vec<(usize, usize, usize)> = plan[start..end]
                    .iter()
                    .flat_map(|p| {
                        let f = p
                            .group_filter(shape, g)
                            .expect("an output group has a filter");
                        (0..p.weights).filter_map(move |i| match p.x[shape.cell(g, i)] {
                            XSource::Input(j) => Some((f, p.offset + i, j)),
                            XSource::Zero => None,
                        })
                    })
                    .collect();
                terms.sort_unstable();
                out.push((o, terms));
            }
            start = end;
        }
        out.sort();
        out
    }

    #[test]
    fn tile_rows_compute_what_plain_rows_compute() {
        let tile = MacShape {
            tile: true,
            ..MacShape::plain(4, 31)
        };
        let plain = MacShape::plain(1, 31);
        // Dense layers (one and three batch rows, a neuron count that leaves spare groups).
        for (inputs, outputs, batch) in [(70, 10, 1), (31, 4, 3), (5, 1, 2)] {
            let rows = dense(tile, inputs, outputs, batch);
            assert_eq!(rows.len(), dense_rows(tile, inputs, outputs, batch));
            assert_eq!(
                products(&rows, tile),
                products(&dense(plain, inputs, outputs, batch), plain)
            );
        }
        // Convolutions: plain, and grouped (one filter per row: the filters read different
        // channels).
        let w = Window {
            input: [4, 5, 5],
            kernel: [3, 3],
            stride: [2, 1],
            pads: [1, 1, 1, 1],
            dilation: [1, 1],
        };
        for (co, groups) in [(6, 1), (4, 2)] {
            let rows = conv(tile, &w, co, groups, 2);
            assert_eq!(rows.len(), conv_rows(tile, &w, co, groups, 2));
            assert_eq!(
                products(&rows, tile),
                products(&conv(plain, &w, co, groups, 2), plain)
            );
        }
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
        let plan = conv(MacShape::plain(2, 31), &w, 2, 1, 2);
        assert_eq!(plan.len(), conv_rows(MacShape::plain(2, 31), &w, 2, 1, 2));
        assert_eq!(plan.len(), 2 * 4);
        // Block 2 holds the second inference's positions 0 and 1, reading its own input.
        assert_eq!(plan[2].reuse, Some(0));
        assert_eq!(plan[2].x[0], XSource::Input(9));
        assert_eq!(plan[2].outputs[0], Some(2 * 4));
        // The second filter's second inference, position 3.
        assert_eq!(plan[7].outputs[1], Some(2 * 4 + 4 + 3));
    }
}
